import pytest

from staybook import BookingConflict, Ledger, UnknownBooking


@pytest.fixture
def ledger():
    ledger = Ledger(rooms=["101", "102", "201"])
    ledger.book("101", "Ada Lovelace", "2024-06-03", "2024-06-07")
    ledger.book("102", "Alan Turing", "2024-06-05", "2024-06-06")
    return ledger


def test_booking_refs_and_nights(ledger):
    booking = ledger.book("201", "Grace Hopper", "2024-06-10", "2024-06-13")
    assert booking.ref == "B0003"
    assert booking.nights == 3


def test_overlapping_booking_rejected(ledger):
    with pytest.raises(BookingConflict) as excinfo:
        ledger.book("101", "Edsger Dijkstra", "2024-06-05", "2024-06-09")
    assert excinfo.value.existing.guest == "Ada Lovelace"


def test_stay_inside_existing_booking_rejected(ledger):
    assert not ledger.is_available("101", "2024-06-04", "2024-06-05")


def test_booking_with_a_gap_accepted(ledger):
    ledger.book("101", "Edsger Dijkstra", "2024-06-08", "2024-06-10")
    assert [b.guest for b in ledger.bookings("101")] == ["Ada Lovelace", "Edsger Dijkstra"]


def test_free_rooms(ledger):
    assert ledger.free_rooms("2024-06-04", "2024-06-06") == ["201"]
    assert ledger.free_rooms("2024-06-20", "2024-06-21") == ["101", "102", "201"]


def test_cancel_frees_the_room(ledger):
    ref = ledger.bookings("102")[0].ref
    ledger.cancel(ref)
    assert ledger.is_available("102", "2024-06-05", "2024-06-06")
    with pytest.raises(UnknownBooking):
        ledger.cancel(ref)


def test_unknown_room(ledger):
    with pytest.raises(KeyError):
        ledger.book("999", "Nobody", "2024-06-01", "2024-06-02")


def test_invalid_stay(ledger):
    with pytest.raises(ValueError):
        ledger.book("201", "Grace Hopper", "2024-06-10", "2024-06-09")
    with pytest.raises(ValueError):
        ledger.book("201", "   ", "2024-06-10", "2024-06-11")
