from decimal import Decimal

import pytest

from shopcart import AmountOff, CartError, PercentOff


def test_checkout_totals(cart):
    cart.add("MUG-01", 2)
    cart.add("TEE-M")
    order = cart.checkout("A-1001")
    assert order.order_id == "A-1001"
    assert order.subtotal == Decimal("45.00")
    assert order.tax == Decimal("9.00")
    assert order.total == Decimal("54.00")


def test_checkout_leaves_cart_untouched(cart):
    cart.add("MUG-01", 2)
    cart.checkout("A-1002")
    assert cart.item_count() == 2


def test_empty_cart_cannot_check_out(cart):
    with pytest.raises(CartError):
        cart.checkout("A-1003")


def test_tax_only_on_taxable_share_after_discount(cart):
    cart.add("TEE-M")
    cart.add("BOOK-7")
    cart.apply_coupon(AmountOff("WELCOME", Decimal("10"), min_subtotal=Decimal("40")))
    order = cart.checkout("A-1004")
    assert order.discount == Decimal("10.00")
    # 40 of the 50 subtotal remains; the taxable share is 20/50.
    assert order.tax == Decimal("3.20")
    assert order.total == Decimal("43.20")


def test_to_dict(cart):
    cart.add("BOOK-7")
    cart.apply_coupon(PercentOff("SPRING10", Decimal("10")))
    data = cart.checkout("A-1005").to_dict()
    assert data["lines"] == [{"sku": "BOOK-7", "name": "Field guide", "unit_price": "30.00", "quantity": 1}]
    assert data["coupons"] == ["SPRING10"]
    assert data["total"] == "27.00"


def test_cancel_once(cart):
    cart.add("MUG-01")
    order = cart.checkout("A-1006")
    order.cancel()
    assert order.status == "cancelled"
    with pytest.raises(ValueError):
        order.cancel()
