import sqlite3

import pytest


@pytest.fixture
def conn():
    connection = sqlite3.connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def write_migrations(tmp_path):
    """Write ``{filename: sql}`` into a fresh migrations directory and return its path."""
    directory = tmp_path / "migrations"
    directory.mkdir()

    def write(files):
        for name, sql in files.items():
            (directory / name).write_text(sql, encoding="utf-8")
        return directory

    return write


def tables(conn):
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return [name for (name,) in rows]
