"""List prices and quantity discount tiers."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PriceTier:
    """A discount of ``discount_pct`` percent for ``min_quantity`` units or more."""

    min_quantity: int
    discount_pct: Decimal

    def __post_init__(self):
        if self.min_quantity < 1:
            raise ValueError("min_quantity must be at least 1")
        pct = Decimal(self.discount_pct)
        if not Decimal(0) <= pct < Decimal(100):
            raise ValueError("discount_pct must be in [0, 100)")
        object.__setattr__(self, "discount_pct", pct)


class PriceList:
    """Unit prices for the items of an inventory, with optional bulk tiers per SKU."""

    def __init__(self, inventory):
        self._inventory = inventory
        self._tiers = {}

    def set_tiers(self, sku, tiers):
        sku = self._inventory.item(sku).sku
        ordered = sorted(tiers, key=lambda tier: tier.min_quantity)
        minimums = [tier.min_quantity for tier in ordered]
        if len(set(minimums)) != len(minimums):
            raise ValueError(f"{sku}: two tiers share the same min_quantity")
        self._tiers[sku] = ordered

    def tiers(self, sku):
        return list(self._tiers.get(self._inventory.item(sku).sku, ()))

    def tier_for(self, sku, quantity):
        """The tier that applies to ``quantity`` units of ``sku``, or ``None``.

        When several tiers are reached, the one with the largest ``min_quantity`` applies.
        """
        for tier in self.tiers(sku):
            if quantity >= tier.min_quantity:
                return tier
        return None

    def unit_price(self, sku, quantity=1):
        """Unit price of ``sku`` when buying ``quantity`` units, rounded to the cent."""
        price = self._inventory.item(sku).unit_price
        tier = self.tier_for(sku, quantity)
        if tier is not None:
            price = price * (Decimal(100) - tier.discount_pct) / Decimal(100)
        return price.quantize(CENT, rounding=ROUND_HALF_UP)

    def line_total(self, sku, quantity):
        return (self.unit_price(sku, quantity) * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
