from sample_events import OrderPlaced, UserSignedUp

from eventbus import DeadEvent, DispatchError, HandlerError


def send_receipt(event):
    pass


def test_handler_error_message_names_handler_and_event():
    error = HandlerError(OrderPlaced("o-1"), send_receipt, ValueError("smtp down"))
    assert str(error) == "send_receipt failed on OrderPlaced: ValueError('smtp down')"
    assert error.event == OrderPlaced("o-1")
    assert error.handler is send_receipt


def test_dispatch_error_lists_every_failure():
    first = HandlerError(OrderPlaced("o-1"), send_receipt, ValueError("a"))
    second = HandlerError(OrderPlaced("o-1"), print, KeyError("b"))
    error = DispatchError([first, second])
    assert error.errors == [first, second]
    assert str(error).startswith("2 handler(s) failed: send_receipt failed on OrderPlaced")


def test_dead_event_wraps_original():
    assert DeadEvent(UserSignedUp("a@example.com")) == DeadEvent(UserSignedUp("a@example.com"))
    assert DeadEvent(UserSignedUp("a@example.com")).event.email == "a@example.com"
