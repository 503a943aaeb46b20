"""The event bus."""

import logging

from .errors import DispatchError, HandlerError
from .events import DeadEvent
from .registry import HandlerRegistry

log = logging.getLogger("eventbus")

ON_ERROR = ("raise", "continue", "log")


class EventBus:
    """Synchronous publish/subscribe.

    ``on_error`` decides what happens when a handler raises:

    - ``"raise"`` (default): stop and raise a ``HandlerError`` right away;
    - ``"continue"``: call the remaining handlers, then raise a ``DispatchError`` listing all
      failures;
    - ``"log"``: log the failure and carry on.
    """

    def __init__(self, on_error="raise"):
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        self.on_error = on_error
        self._registry = HandlerRegistry()

    def subscribe(self, event_type, handler, *, priority=0, once=False):
        """Call ``handler(event)`` for every published event that is an ``event_type``."""
        return self._registry.add(event_type, handler, priority=priority, once=once)

    def on(self, event_type, *, priority=0, once=False):
        """Decorator form of ``subscribe``."""

        def decorator(handler):
            self.subscribe(event_type, handler, priority=priority, once=once)
            return handler

        return decorator

    def unsubscribe(self, subscription):
        return self._registry.remove(subscription)

    def publish(self, event):
        """Deliver ``event`` to its handlers; returns how many handlers were called.

        An event that no handler receives is re-published wrapped in a ``DeadEvent``.
        """
        errors = []
        called = 0
        for subscription in self._registry.handlers_for(type(event)):
            if not subscription.active:
                continue  # cancelled by an earlier handler of this same event
            if subscription.once:
                self._registry.remove(subscription)
            called += 1
            try:
                subscription.handler(event)
            except Exception as error:
                failure = HandlerError(event, subscription.handler, error)
                if self.on_error == "raise":
                    raise failure from error
                if self.on_error == "log":
                    log.error("%s", failure, exc_info=error)
                else:
                    errors.append(failure)
        if called == 0 and not isinstance(event, DeadEvent):
            self.publish(DeadEvent(event))
        if errors:
            raise DispatchError(errors)
        return called

    def subscriptions(self):
        return len(self._registry)

    def clear(self):
        self._registry.clear()
