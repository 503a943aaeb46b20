import pytest

from unitly.prefixes import scale, scale_binary, split_prefix


def test_scale():
    cases = {
        1500: (1.5, "k"),
        1: (1.0, ""),
        999: (999.0, ""),
        0.00042: (420.0, "µ"),
        -2_500_000: (-2.5, "M"),
    }
    for value, (scaled, prefix) in cases.items():
        assert scale(value) == (pytest.approx(scaled), prefix), value


def test_scale_saturates_at_largest_prefix():
    assert scale(5e33) == (pytest.approx(5000.0), "Q")


def test_scale_binary():
    assert scale_binary(1023) == (1023.0, "")
    assert scale_binary(3 * 1024**2) == (3.0, "Mi")
    assert scale_binary(0.5) == (0.5, "")


def test_split_prefix():
    units = {"m", "s", "B", "mi"}
    assert split_prefix("km", units) == ("k", "m")
    assert split_prefix("µs", units) == ("µ", "s")
    assert split_prefix("dam", units) == ("da", "m")
    assert split_prefix("KiB", units) is None
    assert split_prefix("KiB", units, binary_ok=lambda base: base == "B") == ("Ki", "B")
    assert split_prefix("xyz", units) is None
