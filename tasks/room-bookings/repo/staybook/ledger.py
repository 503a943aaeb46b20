"""The booking ledger: who stays in which room when."""

import itertools

from .booking import Booking
from . import dates


class BookingConflict(Exception):
    """The room is already taken for part of the requested stay."""

    def __init__(self, room, existing):
        super().__init__(f"room {room} is taken: {existing.describe()}")
        self.room = room
        self.existing = existing


class UnknownBooking(KeyError):
    pass


class Ledger:
    def __init__(self, rooms):
        self.rooms = list(rooms)
        if len(set(self.rooms)) != len(self.rooms):
            raise ValueError("duplicate room names")
        self._bookings = {}
        self._refs = itertools.count(1)

    def _check_room(self, room):
        if room not in self.rooms:
            raise KeyError(f"unknown room {room!r}")

    def bookings(self, room=None):
        """Bookings, optionally for one room, ordered by check-in."""
        found = [b for b in self._bookings.values() if room is None or b.room == room]
        return sorted(found, key=lambda b: (b.check_in, b.room, b.ref))

    def conflicts(self, room, check_in, check_out):
        self._check_room(room)
        return [b for b in self.bookings(room) if b.overlaps(check_in, check_out)]

    def is_available(self, room, check_in, check_out):
        return not self.conflicts(room, check_in, check_out)

    def free_rooms(self, check_in, check_out):
        return [room for room in self.rooms if self.is_available(room, check_in, check_out)]

    def book(self, room, guest, check_in, check_out):
        """Book ``room`` for ``[check_in, check_out)``; raise ``BookingConflict`` if taken."""
        check_in, check_out = dates.check_range(check_in, check_out)
        clashes = self.conflicts(room, check_in, check_out)
        if clashes:
            raise BookingConflict(room, clashes[0])
        booking = Booking(f"B{next(self._refs):04d}", room, guest, check_in, check_out)
        self._bookings[booking.ref] = booking
        return booking

    def cancel(self, ref):
        try:
            return self._bookings.pop(ref)
        except KeyError:
            raise UnknownBooking(ref) from None
