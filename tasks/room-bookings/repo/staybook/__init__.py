"""Room bookings, availability and occupancy for small guest houses."""

from .booking import Booking
from .ledger import BookingConflict, Ledger, UnknownBooking
from .report import arrivals, occupancy_by_room

__all__ = ["Booking", "BookingConflict", "Ledger", "UnknownBooking", "arrivals", "occupancy_by_room"]
__version__ = "1.3.0"
