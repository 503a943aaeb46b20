import logging

import pytest
from sample_events import OrderCancelled, OrderPlaced, UserSignedUp

from eventbus import DeadEvent, DispatchError, EventBus, HandlerError


def test_publish_calls_handlers_of_the_event_class():
    bus = EventBus()
    seen = []
    bus.subscribe(OrderPlaced, seen.append)
    assert bus.publish(OrderPlaced("o-1", total=30)) == 1
    assert seen == [OrderPlaced("o-1", total=30)]


def test_sibling_classes_are_not_mixed():
    bus = EventBus()
    cancelled = []
    bus.subscribe(OrderCancelled, cancelled.append)
    bus.subscribe(OrderPlaced, lambda e: None)
    bus.publish(OrderPlaced("o-1"))
    assert cancelled == []


def test_priority_then_subscription_order():
    bus = EventBus()
    calls = []
    bus.subscribe(OrderPlaced, lambda e: calls.append("audit"))
    bus.subscribe(OrderPlaced, lambda e: calls.append("validate"), priority=10)
    bus.subscribe(OrderPlaced, lambda e: calls.append("email"))
    bus.publish(OrderPlaced("o-1"))
    assert calls == ["validate", "audit", "email"]


def test_once_handlers_run_a_single_time():
    bus = EventBus()
    calls = []
    bus.subscribe(UserSignedUp, calls.append, once=True)
    bus.publish(UserSignedUp("a@example.com"))
    bus.publish(UserSignedUp("b@example.com"))
    assert calls == [UserSignedUp("a@example.com")]
    assert bus.subscriptions() == 0


def test_cancel_subscription():
    bus = EventBus()
    calls = []
    subscription = bus.subscribe(OrderPlaced, calls.append)
    assert subscription.cancel() is True
    assert subscription.cancel() is False
    bus.publish(OrderPlaced("o-1"))
    assert calls == []


def test_handler_may_cancel_a_later_handler():
    bus = EventBus()
    calls = []
    later = None

    def first(event):
        calls.append("first")
        later.cancel()

    bus.subscribe(OrderPlaced, first)
    later = bus.subscribe(OrderPlaced, lambda e: calls.append("later"))
    assert bus.publish(OrderPlaced("o-1")) == 1
    assert calls == ["first"]


def test_decorator():
    bus = EventBus()

    @bus.on(UserSignedUp, priority=5)
    def welcome(event):
        welcome.sent.append(event.email)

    welcome.sent = []
    bus.publish(UserSignedUp("a@example.com"))
    assert welcome.sent == ["a@example.com"]


def test_unhandled_event_becomes_dead_event():
    bus = EventBus()
    dead = []
    bus.subscribe(DeadEvent, dead.append)
    assert bus.publish(UserSignedUp("a@example.com")) == 0
    assert dead == [DeadEvent(UserSignedUp("a@example.com"))]


def test_on_error_raise_stops_dispatch():
    bus = EventBus()
    calls = []
    bus.subscribe(OrderPlaced, lambda e: 1 / 0)
    bus.subscribe(OrderPlaced, calls.append)
    with pytest.raises(HandlerError, match="ZeroDivisionError") as info:
        bus.publish(OrderPlaced("o-1"))
    assert isinstance(info.value.error, ZeroDivisionError)
    assert calls == []


def test_on_error_continue_collects_failures():
    bus = EventBus(on_error="continue")
    calls = []
    bus.subscribe(OrderPlaced, lambda e: 1 / 0)
    bus.subscribe(OrderPlaced, calls.append)
    bus.subscribe(OrderPlaced, lambda e: {}["missing"])
    with pytest.raises(DispatchError) as info:
        bus.publish(OrderPlaced("o-1"))
    assert [type(e.error) for e in info.value.errors] == [ZeroDivisionError, KeyError]
    assert len(calls) == 1


def test_on_error_log():
    records = []
    collector = logging.Handler()
    collector.emit = records.append
    logger = logging.getLogger("eventbus")
    logger.addHandler(collector)
    logger.propagate = False
    try:
        bus = EventBus(on_error="log")
        bus.subscribe(OrderPlaced, lambda e: 1 / 0)
        assert bus.publish(OrderPlaced("o-1")) == 1
    finally:
        logger.removeHandler(collector)
        logger.propagate = True
    assert len(records) == 1
    assert "failed on OrderPlaced" in records[0].getMessage()


def test_invalid_on_error():
    with pytest.raises(ValueError):
        EventBus(on_error="ignore")
