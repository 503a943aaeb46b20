from decimal import Decimal

import pytest

from stockroom import Inventory, Item, Order, PriceList, PriceTier, quote


@pytest.fixture
def shop():
    inventory = Inventory()
    inventory.register(Item("BOLT-M6", "M6 bolt", Decimal("0.40")))
    inventory.register(Item("CABLE-2M", "Cable 2 m", Decimal("7.99")))
    inventory.add_stock("BOLT-M6", 1000)
    inventory.add_stock("CABLE-2M", 4)
    prices = PriceList(inventory)
    prices.set_tiers("BOLT-M6", [PriceTier(100, Decimal("5"))])
    return inventory, prices


def test_adding_same_sku_merges_lines():
    order = Order("ACME")
    order.add("bolt-m6", 10)
    order.add("BOLT-M6", 5)
    assert len(order.lines) == 1
    assert order.lines[0].quantity == 15


def test_quote_totals(shop):
    inventory, prices = shop
    order = Order("ACME")
    order.add("BOLT-M6", 200)
    order.add("CABLE-2M", 2)
    result = quote(order, inventory, prices)
    assert [line.unit_price for line in result.lines] == [Decimal("0.38"), Decimal("7.99")]
    assert result.total == Decimal("76.00") + Decimal("15.98")
    assert result.fully_in_stock


def test_quote_flags_short_stock(shop):
    inventory, prices = shop
    order = Order("ACME")
    order.add("CABLE-2M", 5)
    result = quote(order, inventory, prices)
    assert not result.fully_in_stock
    assert result.lines[0].in_stock is False
