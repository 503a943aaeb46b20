"""eventbus: an in-process publish/subscribe event bus."""

from .bus import EventBus
from .errors import DispatchError, HandlerError
from .events import DeadEvent, Event
from .registry import HandlerRegistry, Subscription

__all__ = ["DeadEvent", "DispatchError", "Event", "EventBus", "HandlerError", "HandlerRegistry", "Subscription"]
__version__ = "1.2.0"
