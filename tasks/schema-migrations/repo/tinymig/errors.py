"""Exceptions."""


class TinymigError(Exception):
    """Base class of tinymig errors."""


class DiscoveryError(TinymigError):
    """The migrations directory is malformed (bad names, duplicate versions...)."""


class ChecksumMismatch(TinymigError):
    def __init__(self, version, recorded, current):
        super().__init__(f"migration {version:04d} was modified after it was applied")
        self.version = version
        self.recorded = recorded
        self.current = current


class MigrationError(TinymigError):
    """A migration failed and was rolled back."""

    def __init__(self, migration, error):
        super().__init__(f"migration {migration.label} failed: {error}")
        self.migration = migration
