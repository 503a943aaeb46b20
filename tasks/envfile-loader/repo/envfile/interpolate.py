"""``${VAR}`` / ``$VAR`` / ``${VAR:-default}`` expansion."""

import re

from .errors import UndefinedVariable

_REFERENCE = re.compile(
    r"""
    (?<!\\)\$
    (?:
        \{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}
      | (?P<bare>[A-Za-z_][A-Za-z0-9_]*)
    )
    """,
    re.VERBOSE,
)


def expand(value, variables, strict=False, lineno=None):
    """Replace references in ``value`` with entries of ``variables``.

    Unknown variables expand to the default if one is given, otherwise to the empty
    string, or raise :class:`UndefinedVariable` when ``strict`` is true. An escaped
    dollar (``\\$``) is kept as a literal ``$``.
    """

    def substitute(match):
        name = match.group("braced") or match.group("bare")
        default = match.group("default")
        current = variables.get(name)
        if default is not None and not current:
            return default
        if current is None:
            if strict:
                raise UndefinedVariable(name, lineno)
            return ""
        return current

    return _REFERENCE.sub(substitute, value).replace("\\$", "$")
