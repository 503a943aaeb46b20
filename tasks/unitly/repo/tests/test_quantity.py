import pytest

from unitly import IncompatibleUnits, Quantity, UnknownUnit, lookup


def test_conversions():
    assert Quantity(1, "mi").to("km").value == pytest.approx(1.609344)
    assert Quantity(100, "°C").to("°F").value == pytest.approx(212)
    assert Quantity(-40, "°F").to("°C").value == pytest.approx(-40)
    assert Quantity(1, "GiB").to("MB").value == pytest.approx(1073.741824)
    assert Quantity(90, "min").to("h").value == pytest.approx(1.5)


def test_incompatible_units():
    with pytest.raises(IncompatibleUnits):
        Quantity(1, "m").to("s")
    with pytest.raises(IncompatibleUnits):
        Quantity(1, "m") + Quantity(1, "g")


def test_unknown_unit():
    with pytest.raises(UnknownUnit):
        lookup("furlong")
    with pytest.raises(UnknownUnit):
        lookup("kin")  # inches take no prefix


def test_arithmetic_keeps_left_unit():
    total = Quantity(1, "km") + Quantity(250, "m")
    assert total.unit.symbol == "km"
    assert total.value == pytest.approx(1.25)
    assert (2 * Quantity(3, "s")).value == 6


def test_comparisons():
    assert Quantity(1, "km") == Quantity(1000, "m")
    assert Quantity(1, "ft") < Quantity(1, "m")
    assert max(Quantity(1, "h"), Quantity(59, "min"), Quantity(3601, "s")).unit.symbol == "s"
    assert len({Quantity(1, "km"), Quantity(1000, "m")}) == 1


@pytest.mark.parametrize(
    "quantity, text",
    [
        (Quantity(1500, "m"), "1.5 km"),
        (Quantity(0.25, "km"), "250 m"),
        (Quantity(0.00042, "g"), "420 µg"),
        (Quantity(-3500, "m"), "-3.5 km"),
        (Quantity(2048, "B"), "2 KiB"),
        (Quantity(1.5, "GHz"), "1.5 GHz"),
        (Quantity(21.5, "°C"), "21.5 °C"),
        (Quantity(3, "ft"), "3 ft"),
    ],
    ids=["km", "m-from-km", "micrograms", "negative", "kibibytes", "gigahertz", "celsius", "feet"],
)
def test_humanize(quantity, text):
    assert quantity.humanize() == text


def test_humanize_precision():
    assert Quantity(123456, "m").humanize(precision=5) == "123.46 km"
