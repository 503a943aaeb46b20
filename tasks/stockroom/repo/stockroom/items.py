"""Catalogue records."""

import re
from dataclasses import dataclass
from decimal import Decimal

_SKU = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")


def validate_sku(sku):
    """Return ``sku`` upper-cased, or raise ``ValueError`` if it is malformed.

    A SKU is one or more groups of letters and digits joined by single dashes,
    e.g. ``BOLT-M6`` or ``WIDGET-2-BLUE``.
    """
    if not isinstance(sku, str):
        raise TypeError("sku must be a string")
    normalized = sku.strip().upper()
    if not _SKU.match(normalized):
        raise ValueError(f"invalid SKU: {sku!r}")
    return normalized


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    unit_price: Decimal
    category: str = "general"

    def __post_init__(self):
        object.__setattr__(self, "sku", validate_sku(self.sku))
        price = Decimal(self.unit_price)
        if price < 0:
            raise ValueError("unit_price must not be negative")
        object.__setattr__(self, "unit_price", price)
