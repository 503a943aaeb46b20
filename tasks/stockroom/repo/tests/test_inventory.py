from decimal import Decimal

import pytest

from stockroom import Inventory, Item, OutOfStock, UnknownItem


@pytest.fixture
def inv():
    inventory = Inventory()
    inventory.register(Item("BOLT-M6", "M6 bolt", Decimal("0.40")))
    inventory.register(Item("NUT-M6", "M6 nut", Decimal("0.15")))
    inventory.add_stock("BOLT-M6", 100)
    return inventory


def test_add_and_remove_stock(inv):
    assert inv.add_stock("bolt-m6", 20) == 120
    assert inv.remove_stock("BOLT-M6", 50) == 70
    assert inv.on_hand("BOLT-M6") == 70


def test_reservations_reduce_available(inv):
    inv.reserve("BOLT-M6", 30)
    assert inv.on_hand("BOLT-M6") == 100
    assert inv.available("BOLT-M6") == 70
    inv.release("BOLT-M6", 10)
    assert inv.available("BOLT-M6") == 80


def test_cannot_remove_reserved_stock(inv):
    inv.reserve("BOLT-M6", 90)
    with pytest.raises(OutOfStock) as excinfo:
        inv.remove_stock("BOLT-M6", 20)
    assert excinfo.value.available == 10


def test_unknown_item(inv):
    with pytest.raises(UnknownItem):
        inv.available("WASHER-M6")


def test_duplicate_registration_rejected(inv):
    with pytest.raises(ValueError):
        inv.register(Item("BOLT-M6", "again", Decimal("1")))


def test_low_stock(inv):
    assert inv.low_stock(10) == ["NUT-M6"]
    inv.reserve("BOLT-M6", 95)
    assert inv.low_stock(10) == ["BOLT-M6", "NUT-M6"]


@pytest.mark.parametrize("quantity", [0, -3])
def test_quantities_must_be_positive(inv, quantity):
    with pytest.raises(ValueError):
        inv.add_stock("BOLT-M6", quantity)
