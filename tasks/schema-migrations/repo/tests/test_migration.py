import pytest

from tinymig import Migration


def test_label_and_checksum():
    migration = Migration(3, "create_orders", "CREATE TABLE orders (id INTEGER);\n")
    assert migration.label == "0003_create_orders"
    assert len(migration.checksum) == 64
    assert migration.checksum != Migration(3, "create_orders", "CREATE TABLE orders (id TEXT);\n").checksum


def test_statements_split_on_complete_statements():
    sql = (
        "-- users\n"
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n"
        "INSERT INTO users (name) VALUES ('semi;colon');\n"
        "\n"
        "CREATE INDEX users_name\n"
        "    ON users (name);\n"
        "-- trailing comment\n"
    )
    statements = Migration(1, "users", sql).statements()
    assert len(statements) == 3
    assert statements[1] == "INSERT INTO users (name) VALUES ('semi;colon');"
    assert statements[2].startswith("CREATE INDEX users_name")


def test_incomplete_statement_is_rejected():
    with pytest.raises(ValueError, match="incomplete statement"):
        Migration(1, "broken", "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER)\n").statements()
