"""Line parser for ``.env`` files."""

import re
from dataclasses import dataclass

from .errors import ParseError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INLINE_COMMENT = re.compile(r"\s+#.*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "\\$"}


@dataclass(frozen=True)
class Entry:
    key: str
    value: str
    lineno: int
    # None for unquoted values, otherwise the quote character used
    quote: str = None

    @property
    def interpolate(self):
        """Whether ``${VAR}`` references in the value should be expanded."""
        return self.quote != "'"


def parse(text):
    """Parse the text of a ``.env`` file into a list of :class:`Entry`."""
    entries = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        entry = parse_line(line, lineno)
        if entry is not None:
            entries.append(entry)
    return entries


def parse_line(line, lineno=1):
    """Parse one line; return ``None`` for blank lines and comments."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.startswith("export "):
        stripped = stripped[len("export "):].lstrip()
    key, sep, raw = stripped.partition("=")
    key = key.rstrip()
    if not sep:
        raise ParseError(lineno, "expected KEY=VALUE", line)
    if not _KEY.fullmatch(key):
        raise ParseError(lineno, f"invalid key {key!r}", line)
    value, quote = _parse_value(raw, lineno, line)
    return Entry(key, value, lineno, quote)


def _parse_value(raw, lineno, line):
    raw = _INLINE_COMMENT.sub("", raw).strip()
    if not raw or raw[0] not in "'\"":
        return raw, None
    quote = raw[0]
    end = _closing_quote(raw, quote)
    if end == -1:
        raise ParseError(lineno, "unterminated quoted value", line)
    if raw[end + 1:].strip():
        raise ParseError(lineno, "unexpected text after the closing quote", line)
    body = raw[1:end]
    if quote == '"':
        body = _unescape(body, lineno, line)
    return body, quote


def _closing_quote(raw, quote):
    """Index of the quote that closes ``raw[0]``, skipping backslash escapes in double quotes."""
    i = 1
    while i < len(raw):
        char = raw[i]
        if char == "\\" and quote == '"':
            i += 2
            continue
        if char == quote:
            return i
        i += 1
    return -1


def _unescape(body, lineno, line):
    out = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            if i + 1 >= len(body) or body[i + 1] not in _ESCAPES:
                raise ParseError(lineno, f"invalid escape at column {i + 1}", line)
            out.append(_ESCAPES[body[i + 1]])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)
