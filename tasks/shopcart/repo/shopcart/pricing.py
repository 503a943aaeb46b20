"""Money rounding and coupons."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value):
    """Round to whole cents, half up, as our payment provider does."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PercentOff:
    """``percent`` off the subtotal."""

    code: str
    percent: Decimal

    def discount(self, subtotal):
        return money(subtotal * Decimal(self.percent) / 100)


@dataclass(frozen=True)
class AmountOff:
    """A fixed amount off, once the subtotal reaches ``min_subtotal``."""

    code: str
    amount: Decimal
    min_subtotal: Decimal = Decimal("0")

    def discount(self, subtotal):
        if subtotal < self.min_subtotal:
            return Decimal("0.00")
        return money(min(Decimal(self.amount), subtotal))


def total_discount(coupons, subtotal):
    """Apply coupons one after the other; the discount never exceeds the subtotal."""
    remaining = subtotal
    for coupon in coupons:
        remaining -= coupon.discount(remaining)
    return money(subtotal - max(remaining, Decimal("0")))


def tax(taxable_amount, rate):
    return money(taxable_amount * Decimal(rate))
