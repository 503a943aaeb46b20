"""The booking record."""

from dataclasses import dataclass
import datetime as _dt

from . import dates


@dataclass(frozen=True)
class Booking:
    ref: str
    room: str
    guest: str
    check_in: _dt.date
    check_out: _dt.date

    def __post_init__(self):
        check_in, check_out = dates.check_range(self.check_in, self.check_out)
        object.__setattr__(self, "check_in", check_in)
        object.__setattr__(self, "check_out", check_out)
        if not self.guest.strip():
            raise ValueError("guest name is required")

    @property
    def nights(self):
        return dates.nights(self.check_in, self.check_out)

    def overlaps(self, check_in, check_out):
        """True when this stay shares at least one night with ``[check_in, check_out)``."""
        check_in, check_out = dates.check_range(check_in, check_out)
        return dates.ranges_overlap(self.check_in, self.check_out, check_in, check_out)

    def describe(self):
        return f"{self.ref} room {self.room}: {self.guest}, {self.check_in} to {self.check_out} ({self.nights} nights)"
