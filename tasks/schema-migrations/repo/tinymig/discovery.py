"""Finding migration files."""

import re
from pathlib import Path

from .errors import DiscoveryError
from .migration import Migration

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def discover(directory):
    """Return the migrations found in ``directory``, sorted by version.

    Files that do not end in ``.sql`` are ignored; ``.sql`` files with a malformed
    name and duplicate versions are errors.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DiscoveryError(f"not a directory: {directory}")
    migrations = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql" or not path.is_file():
            continue
        match = _NAME.match(path.name)
        if not match:
            raise DiscoveryError(f"bad migration file name: {path.name}")
        version = int(match.group(1))
        if version == 0:
            raise DiscoveryError(f"{path.name}: versions start at 0001")
        if version in migrations:
            raise DiscoveryError(f"duplicate version {version:04d}: {path.name}")
        migrations[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    return [migrations[v] for v in sorted(migrations)]
