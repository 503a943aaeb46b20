from decimal import Decimal

import pytest

from stockroom import Inventory, Item, PriceList, PriceTier


@pytest.fixture
def prices():
    inventory = Inventory()
    inventory.register(Item("BOLT-M6", "M6 bolt", Decimal("0.40")))
    inventory.register(Item("CABLE-2M", "Cable 2 m", Decimal("7.99")))
    return PriceList(inventory)


def test_list_price_without_tiers(prices):
    assert prices.unit_price("CABLE-2M") == Decimal("7.99")
    assert prices.line_total("CABLE-2M", 3) == Decimal("23.97")


def test_single_tier_applies_from_min_quantity(prices):
    prices.set_tiers("BOLT-M6", [PriceTier(100, Decimal("10"))])
    assert prices.unit_price("BOLT-M6", 99) == Decimal("0.40")
    assert prices.unit_price("BOLT-M6", 100) == Decimal("0.36")


def test_below_every_tier(prices):
    prices.set_tiers("BOLT-M6", [PriceTier(500, Decimal("12")), PriceTier(100, Decimal("5"))])
    assert prices.tier_for("BOLT-M6", 10) is None
    assert prices.unit_price("BOLT-M6", 10) == Decimal("0.40")


def test_first_tier_of_several(prices):
    prices.set_tiers("BOLT-M6", [PriceTier(500, Decimal("12")), PriceTier(100, Decimal("5"))])
    assert prices.tier_for("BOLT-M6", 250) == PriceTier(100, Decimal("5"))


def test_tiers_are_kept_sorted(prices):
    prices.set_tiers("BOLT-M6", [PriceTier(500, Decimal("12")), PriceTier(100, Decimal("5"))])
    assert [t.min_quantity for t in prices.tiers("BOLT-M6")] == [100, 500]


def test_duplicate_tier_minimum_rejected(prices):
    with pytest.raises(ValueError):
        prices.set_tiers("BOLT-M6", [PriceTier(100, Decimal("5")), PriceTier(100, Decimal("7"))])


def test_discount_rounds_half_up(prices):
    prices.set_tiers("CABLE-2M", [PriceTier(2, Decimal("5"))])
    # 7.99 * 0.95 = 7.5905
    assert prices.unit_price("CABLE-2M", 2) == Decimal("7.59")


def test_invalid_tier():
    with pytest.raises(ValueError):
        PriceTier(0, Decimal("5"))
    with pytest.raises(ValueError):
        PriceTier(10, Decimal("100"))
