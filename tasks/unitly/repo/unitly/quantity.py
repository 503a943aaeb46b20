"""Quantities: a number and a unit."""

import functools
import math

from .prefixes import scale, scale_binary
from .units import Unit, lookup


class IncompatibleUnits(TypeError):
    """The units measure different dimensions (metres and seconds...)."""


@functools.total_ordering
class Quantity:
    __slots__ = ("value", "unit")

    def __init__(self, value, unit):
        self.value = value
        self.unit = unit if isinstance(unit, Unit) else lookup(unit)

    def _base(self):
        return self.value * self.unit.factor + self.unit.offset

    def to(self, unit):
        """The same quantity expressed in ``unit`` (a symbol or a ``Unit``)."""
        target = unit if isinstance(unit, Unit) else lookup(unit)
        if target.dimension != self.unit.dimension:
            raise IncompatibleUnits(f"cannot convert {self.unit.symbol} to {target.symbol}")
        return Quantity((self._base() - target.offset) / target.factor, target)

    def _check(self, other):
        if not isinstance(other, Quantity):
            return NotImplemented
        if other.unit.dimension != self.unit.dimension:
            raise IncompatibleUnits(f"{self.unit.symbol} and {other.unit.symbol}")
        return other

    def __add__(self, other):
        other = self._check(other)
        if other is NotImplemented:
            return other
        return Quantity(self.value + other.to(self.unit).value, self.unit)

    def __sub__(self, other):
        other = self._check(other)
        if other is NotImplemented:
            return other
        return Quantity(self.value - other.to(self.unit).value, self.unit)

    def __mul__(self, number):
        if not isinstance(number, (int, float)):
            return NotImplemented
        return Quantity(self.value * number, self.unit)

    __rmul__ = __mul__

    def __eq__(self, other):
        other = self._check(other)
        if other is NotImplemented:
            return other
        return math.isclose(self._base(), other._base(), rel_tol=1e-9, abs_tol=1e-12)

    def __lt__(self, other):
        other = self._check(other)
        if other is NotImplemented:
            return other
        return self._base() < other._base() and self != other

    def __hash__(self):
        return hash((self.unit.dimension, round(self._base(), 9)))

    def humanize(self, precision=3):
        """Format with the most readable prefix: ``Quantity(1500, "m").humanize() == "1.5 km"``."""
        root = lookup(self.unit.root_symbol)
        if not root.prefixable:
            return f"{self.value:.{precision}g} {self.unit.symbol}"
        value = self.to(root).value
        scaled, prefix = scale_binary(value) if root.binary else scale(value)
        return f"{scaled:.{precision}g} {prefix}{root.symbol}"

    def __repr__(self):
        return f"Quantity({self.value!r}, {self.unit.symbol!r})"

    def __str__(self):
        return f"{self.value:g} {self.unit.symbol}"
