"""unitly: physical quantities with unit conversion and human-friendly formatting."""

from .parse import parse_quantity
from .quantity import IncompatibleUnits, Quantity
from .units import UnknownUnit, lookup

__all__ = ["IncompatibleUnits", "Quantity", "UnknownUnit", "lookup", "parse_quantity"]
__version__ = "2.1.0"
