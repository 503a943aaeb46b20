"""The ``tinymig_history`` table."""

from .errors import ChecksumMismatch

TABLE = "tinymig_history"


def ensure_table(conn):
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} ("
        " version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " checksum TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
    )
    conn.commit()


def applied(conn):
    """``{version: checksum}`` of the applied migrations."""
    rows = conn.execute(f"SELECT version, checksum FROM {TABLE} ORDER BY version")
    return dict(rows.fetchall())


def record(conn, migration):
    conn.execute(
        f"INSERT INTO {TABLE} (version, name, checksum) VALUES (?, ?, ?)",
        (migration.version, migration.name, migration.checksum),
    )


def verify(recorded, migrations):
    """Raise ``ChecksumMismatch`` if an applied migration's file has changed."""
    for migration in migrations:
        checksum = recorded.get(migration.version)
        if checksum is not None and checksum != migration.checksum:
            raise ChecksumMismatch(migration.version, checksum, migration.checksum)
