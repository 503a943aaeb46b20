import pytest

from tinymig import DiscoveryError, discover


def test_sorted_by_version_and_other_files_ignored(write_migrations):
    directory = write_migrations(
        {
            "0002_add_index.sql": "CREATE INDEX i ON t (x);",
            "0001_create_t.sql": "CREATE TABLE t (x);",
            "README.md": "notes",
        }
    )
    assert [m.label for m in discover(directory)] == ["0001_create_t", "0002_add_index"]


def test_bad_name(write_migrations):
    directory = write_migrations({"1_create_t.sql": "CREATE TABLE t (x);"})
    with pytest.raises(DiscoveryError, match="bad migration file name"):
        discover(directory)


def test_duplicate_version(write_migrations):
    directory = write_migrations({"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"})
    with pytest.raises(DiscoveryError, match="duplicate version 0001"):
        discover(directory)


def test_missing_directory(tmp_path):
    with pytest.raises(DiscoveryError):
        discover(tmp_path / "nope")
