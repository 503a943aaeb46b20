"""Minimal schema migrations for SQLite."""

from .discovery import discover
from .errors import ChecksumMismatch, DiscoveryError, MigrationError, TinymigError
from .migration import Migration
from .runner import migrate, pending, status

__all__ = [
    "ChecksumMismatch",
    "DiscoveryError",
    "Migration",
    "MigrationError",
    "TinymigError",
    "discover",
    "migrate",
    "pending",
    "status",
]

__version__ = "0.4.0"
