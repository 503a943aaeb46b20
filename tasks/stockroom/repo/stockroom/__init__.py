"""Inventory levels, bulk pricing and quotes for a single warehouse."""

from .items import Item, validate_sku
from .inventory import Inventory, OutOfStock, UnknownItem
from .pricing import PriceList, PriceTier
from .orders import Order, OrderLine, Quote, QuoteLine, quote

__all__ = [
    "Item",
    "validate_sku",
    "Inventory",
    "OutOfStock",
    "UnknownItem",
    "PriceList",
    "PriceTier",
    "Order",
    "OrderLine",
    "Quote",
    "QuoteLine",
    "quote",
]

__version__ = "0.6.2"
