from staybook import Ledger, arrivals, occupancy_by_room


def make_ledger():
    ledger = Ledger(rooms=["101", "102"])
    ledger.book("101", "Ada Lovelace", "2024-05-29", "2024-06-04")
    ledger.book("101", "Alan Turing", "2024-06-20", "2024-06-25")
    ledger.book("102", "Grace Hopper", "2024-06-03", "2024-06-04")
    return ledger


def test_occupancy_clips_to_window():
    result = occupancy_by_room(make_ledger(), "2024-06-01", "2024-07-01")
    # room 101: 3 nights in June from the first stay, 5 from the second
    assert result == {"101": round(8 / 30, 3), "102": round(1 / 30, 3)}


def test_occupancy_of_empty_ledger():
    assert occupancy_by_room(Ledger(rooms=["1"]), "2024-06-01", "2024-06-08") == {"1": 0.0}


def test_arrivals():
    text = arrivals(make_ledger(), "2024-06-03")
    assert text == "Arrivals 2024-06-03\n  102    Grace Hopper (1 nights)"


def test_no_arrivals():
    assert arrivals(make_ledger(), "2024-06-04").endswith("(none)")
