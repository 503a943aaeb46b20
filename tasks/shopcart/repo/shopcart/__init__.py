"""shopcart: shopping carts, coupons and orders for small web shops."""

from .cart import Cart, LineItem
from .catalog import Catalog, Product
from .errors import CartError, CouponError, UnknownProduct
from .order import Order
from .pricing import AmountOff, PercentOff, money

__all__ = [
    "AmountOff",
    "Cart",
    "CartError",
    "Catalog",
    "CouponError",
    "LineItem",
    "Order",
    "PercentOff",
    "Product",
    "UnknownProduct",
    "money",
]
__version__ = "1.3.0"
