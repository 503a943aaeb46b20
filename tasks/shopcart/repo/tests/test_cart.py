from decimal import Decimal

import pytest

from shopcart import CartError, CouponError, PercentOff, UnknownProduct


def test_add_merges_lines(cart):
    cart.add("MUG-01")
    cart.add("MUG-01", 2)
    cart.add("TEE-M")
    assert [(l.sku, l.quantity) for l in cart.lines] == [("MUG-01", 3), ("TEE-M", 1)]
    assert cart.item_count() == 4


def test_unknown_sku(cart):
    with pytest.raises(UnknownProduct):
        cart.add("NOPE")


def test_invalid_quantities(cart):
    with pytest.raises(CartError):
        cart.add("MUG-01", 0)
    cart.add("MUG-01")
    with pytest.raises(CartError):
        cart.set_quantity("MUG-01", -1)


def test_set_quantity_zero_removes_line(cart):
    cart.add("MUG-01", 2)
    cart.add("TEE-M")
    cart.set_quantity("MUG-01", 0)
    assert [l.sku for l in cart.lines] == ["TEE-M"]
    with pytest.raises(CartError):
        cart.remove("MUG-01")


def test_subtotal_and_discount(cart):
    cart.add("MUG-01", 2)
    cart.add("BOOK-7")
    cart.apply_coupon(PercentOff("SPRING10", Decimal("10")))
    assert cart.subtotal == Decimal("55.00")
    assert cart.discount == Decimal("5.50")


def test_coupon_cannot_be_applied_twice(cart):
    cart.apply_coupon(PercentOff("SPRING10", Decimal("10")))
    with pytest.raises(CouponError):
        cart.apply_coupon(PercentOff("SPRING10", Decimal("10")))
    cart.remove_coupon("SPRING10")
    assert cart.coupons == []


def test_clear_empties_cart(cart):
    cart.add("TEE-M", 2)
    cart.apply_coupon(PercentOff("SPRING10", Decimal("10")))
    cart.clear()
    assert cart.lines == [] and cart.coupons == []
    assert cart.subtotal == Decimal("0.00")
