import datetime as dt

import pytest

from staybook import dates


def test_parse_date_accepts_strings_dates_and_datetimes():
    assert dates.parse_date(" 2024-06-03 ") == dt.date(2024, 6, 3)
    assert dates.parse_date(dt.date(2024, 6, 3)) == dt.date(2024, 6, 3)
    assert dates.parse_date(dt.datetime(2024, 6, 3, 15, 0)) == dt.date(2024, 6, 3)


def test_parse_date_errors():
    with pytest.raises(ValueError):
        dates.parse_date("03/06/2024")
    with pytest.raises(TypeError):
        dates.parse_date(20240603)


def test_nights_and_each_night():
    assert dates.nights("2024-06-03", "2024-06-05") == 2
    assert list(dates.each_night("2024-06-30", "2024-07-02")) == [dt.date(2024, 6, 30), dt.date(2024, 7, 1)]


def test_empty_range_rejected():
    with pytest.raises(ValueError):
        dates.check_range("2024-06-05", "2024-06-05")


def test_ranges_overlap():
    d = dt.date
    assert dates.ranges_overlap(d(2024, 6, 1), d(2024, 6, 5), d(2024, 6, 3), d(2024, 6, 8))
    assert dates.ranges_overlap(d(2024, 6, 1), d(2024, 6, 10), d(2024, 6, 3), d(2024, 6, 4))
    assert not dates.ranges_overlap(d(2024, 6, 1), d(2024, 6, 3), d(2024, 6, 5), d(2024, 6, 8))


def test_clip():
    d = dt.date
    assert dates.clip(d(2024, 5, 28), d(2024, 6, 3), d(2024, 6, 1), d(2024, 7, 1)) == (d(2024, 6, 1), d(2024, 6, 3))
    assert dates.clip(d(2024, 5, 1), d(2024, 5, 3), d(2024, 6, 1), d(2024, 7, 1)) is None
