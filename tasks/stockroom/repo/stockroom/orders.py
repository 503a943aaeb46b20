"""Orders and quotes."""

from dataclasses import dataclass, field
from decimal import Decimal

from .items import validate_sku


@dataclass
class OrderLine:
    sku: str
    quantity: int


@dataclass
class Order:
    customer: str
    lines: list = field(default_factory=list)

    def add(self, sku, quantity):
        """Add ``quantity`` units of ``sku``; adding the same SKU twice merges the lines."""
        sku = validate_sku(sku)
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        for line in self.lines:
            if line.sku == sku:
                line.quantity += quantity
                return line
        line = OrderLine(sku, quantity)
        self.lines.append(line)
        return line


@dataclass(frozen=True)
class QuoteLine:
    sku: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    in_stock: bool


@dataclass(frozen=True)
class Quote:
    customer: str
    lines: tuple
    total: Decimal

    @property
    def fully_in_stock(self):
        return all(line.in_stock for line in self.lines)


def quote(order, inventory, prices):
    """Price every line of ``order``; lines are flagged when stock is short."""
    lines = []
    for line in order.lines:
        unit = prices.unit_price(line.sku, line.quantity)
        lines.append(
            QuoteLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=unit,
                total=prices.line_total(line.sku, line.quantity),
                in_stock=inventory.available(line.sku) >= line.quantity,
            )
        )
    total = sum((line.total for line in lines), Decimal("0.00"))
    return Quote(order.customer, tuple(lines), total)
