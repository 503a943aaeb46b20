"""Date helpers. All ranges are half-open: ``[start, end)``."""

import datetime as _dt


def parse_date(value):
    """Accept a ``date`` or an ISO ``YYYY-MM-DD`` string and return a ``date``."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO date: {value!r}") from None
    raise TypeError(f"expected a date or a string, got {type(value).__name__}")


def check_range(start, end):
    """Parse both ends and make sure the range holds at least one night."""
    start, end = parse_date(start), parse_date(end)
    if end <= start:
        raise ValueError(f"empty date range: {start} to {end}")
    return start, end


def nights(start, end):
    """Number of nights in ``[start, end)``."""
    start, end = check_range(start, end)
    return (end - start).days


def each_night(start, end):
    """Yield every night (as the date it starts on) of ``[start, end)``."""
    start, end = check_range(start, end)
    day = start
    while day < end:
        yield day
        day += _dt.timedelta(days=1)


def ranges_overlap(start_a, end_a, start_b, end_b):
    """True when the ranges ``[start_a, end_a)`` and ``[start_b, end_b)`` share a night."""
    return start_a <= end_b and start_b <= end_a


def clip(start, end, window_start, window_end):
    """The part of ``[start, end)`` inside ``[window_start, window_end)``, or ``None``."""
    lo, hi = max(start, window_start), min(end, window_end)
    return (lo, hi) if lo < hi else None
