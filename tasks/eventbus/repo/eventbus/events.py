"""Event base classes."""

from dataclasses import dataclass


class Event:
    """Base class for application events.

    Subclass it (dataclasses work well). Events are dispatched by class: a handler subscribed
    to a class also receives the events of all its subclasses, so subscribing to ``Event``
    itself sees every event published on the bus.
    """


@dataclass(frozen=True)
class DeadEvent:
    """Published in place of an event that no handler received, to help spot wiring mistakes."""

    event: object
