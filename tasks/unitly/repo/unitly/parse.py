"""Parsing quantities from text."""

import re

from .quantity import Quantity
from .units import lookup

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\s\d].*?)\s*$")


def parse_quantity(text):
    """Parse ``"12.5 km"``, ``"-40°F"`` or ``"3e8 m"`` into a ``Quantity``.

    Raises ``ValueError`` for malformed text and ``UnknownUnit`` for an unknown unit.
    """
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(f"not a quantity: {text!r}")
    number, symbol = match.groups()
    value = float(number)
    if value.is_integer() and re.fullmatch(r"[-+]?\d+", number):
        value = int(number)
    return Quantity(value, lookup(symbol))
