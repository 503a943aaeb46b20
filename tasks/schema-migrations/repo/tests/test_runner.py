import pytest

from tinymig import ChecksumMismatch, migrate, pending, status

from conftest import tables

MIGRATIONS = {
    "0001_create_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
    "0002_add_email_index.sql": "CREATE UNIQUE INDEX users_email ON users (email);\n",
    "0003_create_orders.sql": (
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n"
        "INSERT INTO users (email) VALUES ('admin@example.com');\n"
    ),
}


def test_migrate_applies_everything_in_order(conn, write_migrations):
    directory = write_migrations(MIGRATIONS)
    assert migrate(conn, directory) == [1, 2, 3]
    assert tables(conn) == ["orders", "tinymig_history", "users"]
    assert conn.execute("SELECT email FROM users").fetchall() == [("admin@example.com",)]


def test_migrate_is_idempotent(conn, write_migrations):
    directory = write_migrations(MIGRATIONS)
    migrate(conn, directory)
    assert migrate(conn, directory) == []
    assert pending(conn, directory) == []


def test_target_version(conn, write_migrations):
    directory = write_migrations(MIGRATIONS)
    assert migrate(conn, directory, target=2) == [1, 2]
    assert pending(conn, directory) == [3]
    assert status(conn, directory) == [
        ("0001_create_users", True),
        ("0002_add_email_index", True),
        ("0003_create_orders", False),
    ]
    assert migrate(conn, directory) == [3]


def test_edited_migration_is_detected(conn, write_migrations):
    directory = write_migrations(MIGRATIONS)
    migrate(conn, directory, target=1)
    write_migrations({"0001_create_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY);\n"})
    with pytest.raises(ChecksumMismatch) as excinfo:
        migrate(conn, directory)
    assert excinfo.value.version == 1
    assert pending(conn, directory) == [2, 3]


def test_connection_settings_are_restored(conn, write_migrations):
    directory = write_migrations(MIGRATIONS)
    conn.isolation_level = "DEFERRED"
    migrate(conn, directory)
    assert conn.isolation_level == "DEFERRED"
    assert not conn.in_transaction
