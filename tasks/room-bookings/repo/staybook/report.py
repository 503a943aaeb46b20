"""Occupancy figures and arrival lists."""

from . import dates


def occupancy_by_room(ledger, start, end):
    """Fraction of the nights of ``[start, end)`` each room is booked, rounded to 3 places."""
    start, end = dates.check_range(start, end)
    total = dates.nights(start, end)
    result = {}
    for room in ledger.rooms:
        booked = 0
        for booking in ledger.bookings(room):
            part = dates.clip(booking.check_in, booking.check_out, start, end)
            if part:
                booked += dates.nights(*part)
        result[room] = round(booked / total, 3)
    return result


def arrivals(ledger, day):
    """Plain-text list of the guests checking in on ``day``."""
    day = dates.parse_date(day)
    lines = [f"Arrivals {day.isoformat()}"]
    for booking in ledger.bookings():
        if booking.check_in == day:
            lines.append(f"  {booking.room:<6} {booking.guest} ({booking.nights} nights)")
    if len(lines) == 1:
        lines.append("  (none)")
    return "\n".join(lines)
