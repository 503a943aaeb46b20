import os

from envfile import load, parse_values, read_values

SAMPLE = """\
# app settings
export APP_ENV=production
DB_HOST=localhost
DB_URL="postgres://${DB_HOST}:${DB_PORT:-5432}/app"
RAW='${DB_HOST}'
"""


def write(tmp_path, text):
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_values_interpolates_earlier_keys(tmp_path):
    values = read_values(write(tmp_path, SAMPLE), environ={})
    assert values == {
        "APP_ENV": "production",
        "DB_HOST": "localhost",
        "DB_URL": "postgres://localhost:5432/app",
        "RAW": "${DB_HOST}",
    }


def test_references_fall_back_to_environ():
    assert parse_values("URL=http://$HOST/", environ={"HOST": "example.org"}) == {"URL": "http://example.org/"}


def test_load_keeps_existing_values(tmp_path):
    environ = {"APP_ENV": "staging"}
    changed = load(write(tmp_path, SAMPLE), environ=environ)
    assert environ["APP_ENV"] == "staging"
    assert changed == ["DB_HOST", "DB_URL", "RAW"]


def test_load_override(tmp_path):
    environ = {"APP_ENV": "staging"}
    load(write(tmp_path, SAMPLE), environ=environ, override=True)
    assert environ["APP_ENV"] == "production"


def test_load_defaults_to_os_environ(tmp_path, monkeypatch):
    monkeypatch.delenv("ENVFILE_TEST_KEY", raising=False)
    load(write(tmp_path, "ENVFILE_TEST_KEY=yes\n"))
    assert os.environ["ENVFILE_TEST_KEY"] == "yes"
    monkeypatch.delenv("ENVFILE_TEST_KEY")
