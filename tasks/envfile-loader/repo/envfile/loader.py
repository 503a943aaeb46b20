"""Reading files and applying them to an environment."""

import os

from .interpolate import expand
from .parser import parse


def parse_values(text, environ=None, strict=False):
    """Parse ``text`` and interpolate it; returns a dict in file order.

    References see the keys defined earlier in the file first, then ``environ``
    (``os.environ`` by default).
    """
    environ = os.environ if environ is None else environ
    values = {}
    for entry in parse(text):
        value = entry.value
        if entry.interpolate:
            scope = dict(environ)
            scope.update(values)
            value = expand(value, scope, strict=strict, lineno=entry.lineno)
        values[entry.key] = value
    return values


def read_values(path, environ=None, strict=False, encoding="utf-8"):
    """Read the file at ``path`` and return its values without touching any environment."""
    with open(path, encoding=encoding) as handle:
        return parse_values(handle.read(), environ=environ, strict=strict)


def load(path, environ=None, override=False, strict=False, encoding="utf-8"):
    """Read ``path`` and set its values in ``environ`` (``os.environ`` by default).

    Keys that are already set are left alone unless ``override`` is true. Returns the
    keys that were set.
    """
    environ = os.environ if environ is None else environ
    values = read_values(path, environ=environ, strict=strict, encoding=encoding)
    changed = []
    for key, value in values.items():
        if override or key not in environ:
            environ[key] = value
            changed.append(key)
    return changed
