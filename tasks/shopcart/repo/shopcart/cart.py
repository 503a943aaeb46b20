"""The cart a customer fills before checking out."""

from dataclasses import dataclass
from decimal import Decimal

from .errors import CartError, CouponError
from .order import Order
from .pricing import money, total_discount


@dataclass
class LineItem:
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    taxable: bool = True

    @property
    def total(self):
        return money(self.unit_price * self.quantity)


class Cart:
    def __init__(self, catalog, tax_rate="0"):
        self.catalog = catalog
        self.tax_rate = Decimal(tax_rate)
        self.lines = []
        self.coupons = []

    def _line(self, sku):
        for line in self.lines:
            if line.sku == sku:
                return line
        return None

    def add(self, sku, quantity=1):
        """Add ``quantity`` of a product; adding a SKU already in the cart increases its line."""
        if quantity < 1:
            raise CartError("quantity must be at least 1")
        product = self.catalog.get(sku)
        line = self._line(sku)
        if line is None:
            line = LineItem(sku, product.name, product.price, 0, product.taxable)
            self.lines.append(line)
        line.quantity += quantity
        return line

    def set_quantity(self, sku, quantity):
        """Change a line's quantity; 0 removes the line."""
        line = self._line(sku)
        if line is None:
            raise CartError(f"{sku} is not in the cart")
        if quantity < 0:
            raise CartError("quantity cannot be negative")
        if quantity == 0:
            self.remove(sku)
        else:
            line.quantity = quantity

    def remove(self, sku):
        line = self._line(sku)
        if line is None:
            raise CartError(f"{sku} is not in the cart")
        self.lines.remove(line)

    def apply_coupon(self, coupon):
        if any(existing.code == coupon.code for existing in self.coupons):
            raise CouponError(f"coupon {coupon.code} is already applied")
        self.coupons.append(coupon)

    def remove_coupon(self, code):
        self.coupons = [c for c in self.coupons if c.code != code]

    @property
    def subtotal(self):
        return money(sum((line.total for line in self.lines), Decimal("0")))

    @property
    def discount(self):
        return total_discount(self.coupons, self.subtotal)

    def item_count(self):
        return sum(line.quantity for line in self.lines)

    def clear(self):
        """Empty the cart (lines and coupons), for example after a successful checkout."""
        self.lines.clear()
        self.coupons.clear()

    def checkout(self, order_id):
        """Place an order for the cart's current content. The cart itself is left as is."""
        if not self.lines:
            raise CartError("cannot check out an empty cart")
        return Order.from_cart(self, order_id)
