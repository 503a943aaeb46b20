"""Applying rules to text and streams."""

from collections import Counter

from .rules import DEFAULT_RULES


class Redactor:
    """Apply a sequence of rules, in order, to text."""

    def __init__(self, rules=DEFAULT_RULES, allow=()):
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise ValueError("rule names must be unique")
        self.rules = tuple(rules)
        # exact strings that are never redacted, e.g. a public support address
        self.allow = tuple(allow)
        self.totals = Counter()

    def redact(self, text):
        """Return ``(redacted_text, counts)``; ``counts`` maps rule names to replacements."""
        protected, text = self._protect(text)
        counts = Counter()
        for rule in self.rules:
            text, n = rule.apply(text)
            if n:
                counts[rule.name] += n
        for marker, original in protected.items():
            text = text.replace(marker, original)
        self.totals.update(counts)
        return text, counts

    def redact_lines(self, lines):
        """Yield every line of ``lines`` redacted, keeping line endings."""
        for line in lines:
            body = line.rstrip("\r\n")
            ending = line[len(body):]
            redacted, _ = self.redact(body)
            yield redacted + ending

    def _protect(self, text):
        protected = {}
        for i, value in enumerate(self.allow):
            if value in text:
                marker = f"\x00ALLOW{i}\x00"
                protected[marker] = value
                text = text.replace(value, marker)
        return protected, text
