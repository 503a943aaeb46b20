"""flagstore: feature flags kept in a small human-editable text file."""

from .evaluate import bucket, is_enabled
from .model import Flag
from .reader import FlagFileError, load, loads
from .store import FlagStore
from .writer import dump, dumps

__all__ = ["Flag", "FlagFileError", "FlagStore", "bucket", "dump", "dumps", "is_enabled", "load", "loads"]
__version__ = "0.4.0"
