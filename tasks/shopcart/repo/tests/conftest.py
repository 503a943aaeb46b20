from decimal import Decimal

import pytest

from shopcart import Cart, Catalog, Product


@pytest.fixture
def catalog():
    return Catalog(
        [
            Product("MUG-01", "Enamel mug", Decimal("12.50")),
            Product("TEE-M", "T-shirt (M)", Decimal("20.00")),
            Product("BOOK-7", "Field guide", Decimal("30.00"), taxable=False),
        ]
    )


@pytest.fixture
def cart(catalog):
    return Cart(catalog, tax_rate="0.20")
