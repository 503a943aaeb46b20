"""Redaction rules."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """Replace every match of ``pattern`` with ``replacement`` (``re.sub`` syntax)."""

    name: str
    pattern: str
    replacement: str
    ignore_case: bool = False

    def __post_init__(self):
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"invalid rule name {self.name!r}")
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"rule {self.name}: bad pattern: {exc}") from None

    def apply(self, text):
        """Return ``(new_text, number_of_replacements)``."""
        flags = re.IGNORECASE if self.ignore_case else 0
        return re.subn(self.pattern, self.replacement, text, flags)


DEFAULT_RULES = (
    Rule(
        "email",
        r"\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b",
        "[EMAIL]",
        ignore_case=True,
    ),
    Rule(
        "ipv4",
        r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b",
        "[IP]",
    ),
    Rule("bearer", r"\bBearer\s+[A-Za-z0-9._~+/-]+=*", "Bearer [REDACTED]", ignore_case=True),
    Rule(
        "secret_kv",
        r"\b(password|passwd|secret|api_key|token)(\s*[=:]\s*)[^\s,;]+",
        r"\1\2[REDACTED]",
        ignore_case=True,
    ),
    Rule("aws_key", r"\bAKIA[0-9A-Z]{16}\b", "[AWS_KEY]"),
)


def rules_by_name(names, rules=DEFAULT_RULES):
    """Select rules by name, keeping the order of ``rules``; unknown names raise ``KeyError``."""
    wanted = set(names)
    known = {rule.name for rule in rules}
    unknown = sorted(wanted - known)
    if unknown:
        raise KeyError(f"unknown rule(s): {', '.join(unknown)}")
    return tuple(rule for rule in rules if rule.name in wanted)
