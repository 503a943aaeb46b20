import pytest

from envfile import UndefinedVariable
from envfile.interpolate import expand


def test_braced_and_bare_references():
    env = {"HOST": "db", "PORT": "5432"}
    assert expand("${HOST}:$PORT/app", env) == "db:5432/app"


def test_default_for_missing_or_empty():
    assert expand("${PORT:-8080}", {}) == "8080"
    assert expand("${PORT:-8080}", {"PORT": ""}) == "8080"
    assert expand("${PORT:-8080}", {"PORT": "9000"}) == "9000"


def test_missing_expands_to_empty_string():
    assert expand("x${NOPE}y", {}) == "xy"


def test_strict_mode_raises():
    with pytest.raises(UndefinedVariable) as excinfo:
        expand("${NOPE}", {}, strict=True, lineno=7)
    assert excinfo.value.name == "NOPE"
    assert "line 7" in str(excinfo.value)


def test_escaped_dollar_is_literal():
    assert expand(r"cost: \$5 and $X", {"X": "1"}) == "cost: $5 and 1"
