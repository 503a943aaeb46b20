"""Placed orders."""

from decimal import Decimal

from .pricing import money, tax, total_discount


class Order:
    """An order as placed: its lines, coupons and tax rate, with totals computed from them."""

    def __init__(self, order_id, lines, coupons=(), tax_rate=Decimal("0")):
        self.order_id = order_id
        self.lines = lines
        self.coupons = coupons
        self.tax_rate = Decimal(tax_rate)
        self.status = "placed"

    @classmethod
    def from_cart(cls, cart, order_id):
        return cls(order_id, lines=cart.lines, coupons=cart.coupons, tax_rate=cart.tax_rate)

    @property
    def subtotal(self):
        return money(sum((line.total for line in self.lines), Decimal("0")))

    @property
    def discount(self):
        return total_discount(self.coupons, self.subtotal)

    @property
    def tax(self):
        """Tax on taxable lines, after spreading the discount proportionally."""
        subtotal = self.subtotal
        if not subtotal:
            return Decimal("0.00")
        taxable = sum((line.total for line in self.lines if line.taxable), Decimal("0"))
        share = taxable / subtotal
        return tax((subtotal - self.discount) * share, self.tax_rate)

    @property
    def total(self):
        return money(self.subtotal - self.discount + self.tax)

    def cancel(self):
        if self.status != "placed":
            raise ValueError(f"cannot cancel an order that is {self.status}")
        self.status = "cancelled"

    def to_dict(self):
        return {
            "order_id": self.order_id,
            "status": self.status,
            "lines": [
                {"sku": l.sku, "name": l.name, "unit_price": str(l.unit_price), "quantity": l.quantity}
                for l in self.lines
            ],
            "coupons": [c.code for c in self.coupons],
            "subtotal": str(self.subtotal),
            "discount": str(self.discount),
            "tax": str(self.tax),
            "total": str(self.total),
        }
