"""Read ``.env`` files into a dictionary or into ``os.environ``."""

from .errors import EnvFileError, ParseError, UndefinedVariable
from .loader import load, read_values, parse_values
from .parser import Entry, parse

__all__ = [
    "EnvFileError",
    "ParseError",
    "UndefinedVariable",
    "Entry",
    "parse",
    "parse_values",
    "read_values",
    "load",
]

__version__ = "2.1.0"
