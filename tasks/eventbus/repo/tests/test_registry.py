import pytest
from sample_events import OrderPlaced, UserSignedUp

from eventbus import HandlerRegistry


def handler(event):
    pass


def test_add_validates_arguments():
    registry = HandlerRegistry()
    with pytest.raises(TypeError):
        registry.add(OrderPlaced("o-1"), handler)
    with pytest.raises(TypeError):
        registry.add(OrderPlaced, "not callable")


def test_handlers_for_orders_by_priority_then_seq():
    registry = HandlerRegistry()
    a = registry.add(OrderPlaced, handler)
    b = registry.add(OrderPlaced, handler, priority=-1)
    c = registry.add(OrderPlaced, handler, priority=3)
    d = registry.add(OrderPlaced, handler)
    assert registry.handlers_for(OrderPlaced) == (c, a, d, b)
    assert registry.handlers_for(UserSignedUp) == ()


def test_cache_is_invalidated():
    registry = HandlerRegistry()
    a = registry.add(OrderPlaced, handler)
    assert registry.handlers_for(OrderPlaced) == (a,)
    b = registry.add(OrderPlaced, handler, priority=1)
    assert registry.handlers_for(OrderPlaced) == (b, a)
    registry.remove(b)
    assert registry.handlers_for(OrderPlaced) == (a,)


def test_clear_deactivates_everything():
    registry = HandlerRegistry()
    a = registry.add(OrderPlaced, handler)
    registry.clear()
    assert not a.active
    assert len(registry) == 0
    assert registry.remove(a) is False
