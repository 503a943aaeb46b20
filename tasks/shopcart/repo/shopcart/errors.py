class CartError(Exception):
    """Invalid cart operation (bad quantity, missing line...)."""


class UnknownProduct(CartError, KeyError):
    """The SKU is not in the catalog."""


class CouponError(CartError):
    """The coupon cannot be applied to this cart."""
