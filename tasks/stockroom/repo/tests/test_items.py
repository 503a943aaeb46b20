from decimal import Decimal

import pytest

from stockroom.items import Item, validate_sku


def test_validate_sku_normalizes_case_and_whitespace():
    assert validate_sku("  bolt-m6 ") == "BOLT-M6"


def test_validate_sku_rejects_malformed():
    for bad in ["", "BOLT--M6", "-BOLT", "BOLT M6", "BOLT_M6"]:
        with pytest.raises(ValueError):
            validate_sku(bad)


def test_item_converts_price_to_decimal():
    item = Item("nut-m6", "M6 nut", "0.15")
    assert item.sku == "NUT-M6"
    assert item.unit_price == Decimal("0.15")


def test_item_rejects_negative_price():
    with pytest.raises(ValueError):
        Item("NUT-M6", "M6 nut", Decimal("-1"))
