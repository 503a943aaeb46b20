from decimal import Decimal

from shopcart import AmountOff, PercentOff, money
from shopcart.pricing import total_discount


def test_money_rounds_half_up():
    assert money(Decimal("2.675")) == Decimal("2.68")
    assert money(Decimal("2.665")) == Decimal("2.67")


def test_amount_off_minimum():
    coupon = AmountOff("BIG", Decimal("15"), min_subtotal=Decimal("100"))
    assert coupon.discount(Decimal("99.99")) == Decimal("0.00")
    assert coupon.discount(Decimal("100")) == Decimal("15.00")


def test_discounts_stack_and_never_exceed_subtotal():
    coupons = [PercentOff("HALF", Decimal("50")), AmountOff("TEN", Decimal("10"))]
    assert total_discount(coupons, Decimal("40")) == Decimal("30.00")
    assert total_discount(coupons, Decimal("12")) == Decimal("12.00")
