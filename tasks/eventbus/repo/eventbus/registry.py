"""Who listens to what."""

import itertools


class Subscription:
    """A handler subscribed to an event class. ``cancel()`` unsubscribes it."""

    __slots__ = ("event_type", "handler", "priority", "once", "seq", "active", "_registry")

    def __init__(self, registry, event_type, handler, priority, once, seq):
        self._registry = registry
        self.event_type = event_type
        self.handler = handler
        self.priority = priority
        self.once = once
        self.seq = seq
        self.active = True

    def cancel(self):
        return self._registry.remove(self)

    def __repr__(self):
        name = getattr(self.handler, "__qualname__", repr(self.handler))
        return f"<Subscription {name} to {self.event_type.__name__} priority={self.priority}>"


class HandlerRegistry:
    """Subscriptions by event class, with the per-class call order cached."""

    def __init__(self):
        self._by_type = {}  # event class -> [Subscription]
        self._cache = {}  # event class -> tuple of Subscriptions in call order
        self._seq = itertools.count()

    def add(self, event_type, handler, priority=0, once=False):
        if not isinstance(event_type, type):
            raise TypeError(f"event_type must be a class, got {event_type!r}")
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {handler!r}")
        subscription = Subscription(self, event_type, handler, priority, once, next(self._seq))
        self._by_type.setdefault(event_type, []).append(subscription)
        self._cache.clear()
        return subscription

    def remove(self, subscription):
        """Unsubscribe; returns False when it was not (or no longer) subscribed."""
        subscriptions = self._by_type.get(subscription.event_type, [])
        if subscription not in subscriptions:
            return False
        subscriptions.remove(subscription)
        if not subscriptions:
            del self._by_type[subscription.event_type]
        subscription.active = False
        self._cache.clear()
        return True

    def handlers_for(self, event_type):
        """The subscriptions to call for an event of class ``event_type``, in call order.

        Higher ``priority`` runs first; equal priorities run in subscription order.
        """
        cached = self._cache.get(event_type)
        if cached is None:
            subscriptions = self._by_type.get(event_type, ())
            cached = tuple(sorted(subscriptions, key=lambda s: (-s.priority, s.seq)))
            self._cache[event_type] = cached
        return cached

    def clear(self):
        for subscriptions in self._by_type.values():
            for subscription in subscriptions:
                subscription.active = False
        self._by_type.clear()
        self._cache.clear()

    def __len__(self):
        return sum(len(subscriptions) for subscriptions in self._by_type.values())
