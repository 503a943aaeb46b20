import io

from tinymig.__main__ import main


def test_cli_migrate_and_status(tmp_path, write_migrations):
    directory = write_migrations({"0001_create_t.sql": "CREATE TABLE t (x);", "0002_create_u.sql": "CREATE TABLE u (y);"})
    database = str(tmp_path / "app.db")
    out = io.StringIO()
    assert main([database, str(directory), "--target", "1"], out=out) == 0
    assert out.getvalue() == "applied 1 migration(s)\n"
    out = io.StringIO()
    assert main([database, str(directory), "--status"], out=out) == 0
    assert out.getvalue() == "[x] 0001_create_t\n[ ] 0002_create_u\n"


def test_cli_reports_discovery_errors(tmp_path, write_migrations):
    directory = write_migrations({"create_t.sql": "CREATE TABLE t (x);"})
    out = io.StringIO()
    assert main([str(tmp_path / "app.db"), str(directory)], out=out) == 1
    assert out.getvalue().startswith("error: bad migration file name")
