"""Reading the flagstore text format (see ``writer`` for a description)."""

from .model import Flag


class FlagFileError(ValueError):
    def __init__(self, line, message):
        super().__init__(f"line {line}: {message}")
        self.line = line


def _parse_bool(line, value):
    if value in ("true", "yes", "on"):
        return True
    if value in ("false", "no", "off"):
        return False
    raise FlagFileError(line, f"expected true or false, got {value!r}")


def _parse_rollout(line, value):
    try:
        return int(value.rstrip("%"))
    except ValueError:
        raise FlagFileError(line, f"rollout must be an integer, got {value!r}") from None


def _parse_segments(line, value):
    return [segment.strip() for segment in value.split(",") if segment.strip()]


def _parse_description(line, value):
    return value


PARSERS = {
    "enabled": _parse_bool,
    "rollout": _parse_rollout,
    "segments": _parse_segments,
    "description": _parse_description,
}


def _build(name, settings, line):
    try:
        return Flag(name, **settings)
    except ValueError as error:
        raise FlagFileError(line, str(error)) from None


def loads(text):
    """Parse the text format into a ``{name: Flag}`` dict (in file order)."""
    flags = {}
    name = settings = None
    section_line = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            if name is not None:
                flags[name] = _build(name, settings, section_line)
            name, settings, section_line = line[1:-1].strip(), {}, number
            if name in flags:
                raise FlagFileError(number, f"duplicate flag {name!r}")
            continue
        if name is None:
            raise FlagFileError(number, "setting outside of a [flag] section")
        key, sep, value = line.partition("=")
        if not sep:
            raise FlagFileError(number, "expected 'key = value'")
        key, value = key.strip(), value.strip()
        if key not in PARSERS:
            raise FlagFileError(number, f"unknown setting {key!r}")
        settings[key] = PARSERS[key](number, value)
    if name is not None:
        flags[name] = _build(name, settings, section_line)
    return flags


def load(fp):
    return loads(fp.read())
