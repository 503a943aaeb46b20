"""Stock levels and reservations."""

from .items import validate_sku


class UnknownItem(KeyError):
    """The SKU is not registered."""


class OutOfStock(Exception):
    """Not enough unreserved stock for the request."""

    def __init__(self, sku, requested, available):
        super().__init__(f"{sku}: requested {requested}, only {available} available")
        self.sku = sku
        self.requested = requested
        self.available = available


class Inventory:
    def __init__(self):
        self._items = {}
        self._on_hand = {}
        self._reserved = {}

    def register(self, item):
        if item.sku in self._items:
            raise ValueError(f"{item.sku} is already registered")
        self._items[item.sku] = item
        self._on_hand[item.sku] = 0
        self._reserved[item.sku] = 0
        return item

    def item(self, sku):
        sku = validate_sku(sku)
        try:
            return self._items[sku]
        except KeyError:
            raise UnknownItem(sku) from None

    def skus(self):
        return sorted(self._items)

    def on_hand(self, sku):
        return self._on_hand[self.item(sku).sku]

    def reserved(self, sku):
        return self._reserved[self.item(sku).sku]

    def available(self, sku):
        """Stock that is on hand and not reserved for an order."""
        sku = self.item(sku).sku
        return self._on_hand[sku] - self._reserved[sku]

    def add_stock(self, sku, quantity):
        sku = self.item(sku).sku
        _check_quantity(quantity)
        self._on_hand[sku] += quantity
        return self._on_hand[sku]

    def remove_stock(self, sku, quantity):
        sku = self.item(sku).sku
        _check_quantity(quantity)
        if quantity > self.available(sku):
            raise OutOfStock(sku, quantity, self.available(sku))
        self._on_hand[sku] -= quantity
        return self._on_hand[sku]

    def reserve(self, sku, quantity):
        sku = self.item(sku).sku
        _check_quantity(quantity)
        if quantity > self.available(sku):
            raise OutOfStock(sku, quantity, self.available(sku))
        self._reserved[sku] += quantity

    def release(self, sku, quantity):
        sku = self.item(sku).sku
        _check_quantity(quantity)
        if quantity > self._reserved[sku]:
            raise ValueError(f"{sku}: cannot release {quantity}, only {self._reserved[sku]} reserved")
        self._reserved[sku] -= quantity

    def low_stock(self, threshold):
        """SKUs whose available stock is at or below ``threshold``, sorted."""
        return [sku for sku in self.skus() if self.available(sku) <= threshold]


def _check_quantity(quantity):
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise TypeError("quantity must be an integer")
    if quantity <= 0:
        raise ValueError("quantity must be positive")
