import pytest

from unitly import UnknownUnit, parse_quantity


def test_parse_simple():
    q = parse_quantity("12.5 km")
    assert q.value == 12.5 and q.unit.symbol == "km"


def test_parse_integer_stays_int():
    q = parse_quantity("42 s")
    assert q.value == 42 and isinstance(q.value, int)


def test_parse_without_space_and_exponent():
    assert parse_quantity("-40°F").value == -40
    assert parse_quantity("3e8 m/s".split("/")[0]).value == 3e8


def test_parse_ascii_micro():
    assert parse_quantity("5 us").to("s").value == pytest.approx(5e-6)


def test_parse_errors():
    with pytest.raises(ValueError):
        parse_quantity("km")
    with pytest.raises(UnknownUnit):
        parse_quantity("3 parsecs")
