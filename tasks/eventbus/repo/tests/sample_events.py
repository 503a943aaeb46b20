"""Event classes shared by the tests."""

from dataclasses import dataclass

from eventbus import Event


@dataclass(frozen=True)
class OrderEvent(Event):
    order_id: str


@dataclass(frozen=True)
class OrderPlaced(OrderEvent):
    total: int = 0


@dataclass(frozen=True)
class OrderCancelled(OrderEvent):
    reason: str = ""


@dataclass(frozen=True)
class UserSignedUp(Event):
    email: str
