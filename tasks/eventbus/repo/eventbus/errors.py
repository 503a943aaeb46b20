"""Errors raised while dispatching events."""


class HandlerError(Exception):
    """A handler raised while processing an event."""

    def __init__(self, event, handler, error):
        name = getattr(handler, "__qualname__", repr(handler))
        super().__init__(f"{name} failed on {type(event).__name__}: {error!r}")
        self.event = event
        self.handler = handler
        self.error = error


class DispatchError(Exception):
    """Several handlers failed (``on_error="continue"``); ``errors`` lists the ``HandlerError``s."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} handler(s) failed: " + "; ".join(str(e) for e in errors))
        self.errors = list(errors)
