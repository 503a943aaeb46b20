"""Applying migrations."""

import logging
import sqlite3

from . import history
from .discovery import discover

log = logging.getLogger(__name__)


def pending(conn, directory):
    """Versions found in ``directory`` that have not been applied yet."""
    history.ensure_table(conn)
    done = history.applied(conn)
    return [m.version for m in discover(directory) if m.version not in done]


def status(conn, directory):
    """``[(label, applied?)]`` for every migration in ``directory``."""
    history.ensure_table(conn)
    done = history.applied(conn)
    return [(m.label, m.version in done) for m in discover(directory)]


def migrate(conn, directory, target=None):
    """Apply the pending migrations of ``directory`` (up to ``target``) in order.

    Returns the versions applied by this call.
    """
    migrations = discover(directory)
    history.ensure_table(conn)
    done = history.applied(conn)
    history.verify(done, migrations)
    applied_now = []
    for migration in migrations:
        if target is not None and migration.version > target:
            break
        if migration.version in done:
            continue
        _apply(conn, migration)
        applied_now.append(migration.version)
    return applied_now


def _apply(conn, migration):
    """Run one migration and record it in a single transaction."""
    log.info("applying %s", migration.label)
    statements = migration.statements()
    previous = conn.isolation_level
    conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves
    try:
        conn.execute("BEGIN")
        try:
            for statement in statements:
                conn.execute(statement)
            history.record(conn, migration)
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            log.error("migration %s failed: %s", migration.label, exc)
        else:
            conn.execute("COMMIT")
    finally:
        conn.isolation_level = previous
