"""The unit registry."""

from dataclasses import dataclass
from typing import Optional

from .prefixes import BINARY_PREFIXES, SI_PREFIXES, split_prefix


class UnknownUnit(KeyError):
    """The symbol is not a known unit, with or without a prefix."""


@dataclass(frozen=True)
class Unit:
    """``value_in_base = value * factor + offset`` for the unit's dimension."""

    symbol: str
    dimension: str
    factor: float
    offset: float = 0.0
    prefixable: bool = False
    binary: bool = False
    root: Optional[str] = None  # the unprefixed unit this one was derived from

    @property
    def root_symbol(self):
        return self.root or self.symbol


_UNITS = {
    unit.symbol: unit
    for unit in [
        Unit("m", "length", 1.0, prefixable=True),
        Unit("in", "length", 0.0254),
        Unit("ft", "length", 0.3048),
        Unit("mi", "length", 1609.344),
        Unit("g", "mass", 1.0, prefixable=True),
        Unit("lb", "mass", 453.59237),
        Unit("s", "time", 1.0, prefixable=True),
        Unit("min", "time", 60.0),
        Unit("h", "time", 3600.0),
        Unit("L", "volume", 1.0, prefixable=True),
        Unit("Hz", "frequency", 1.0, prefixable=True),
        Unit("B", "data", 1.0, prefixable=True, binary=True),
        Unit("bit", "data", 0.125, prefixable=True),
        Unit("K", "temperature", 1.0),
        Unit("°C", "temperature", 1.0, offset=273.15),
        Unit("°F", "temperature", 5 / 9, offset=273.15 - 32 * 5 / 9),
    ]
}


def lookup(symbol):
    """Return the ``Unit`` for ``symbol``, deriving prefixed units (``km``, ``MiB``) on demand."""
    unit = _UNITS.get(symbol)
    if unit is not None:
        return unit
    split = split_prefix(symbol, _UNITS, binary_ok=lambda base: _UNITS[base].binary)
    if split is None or not _UNITS[split[1]].prefixable:
        raise UnknownUnit(symbol)
    prefix, base_symbol = split
    base = _UNITS[base_symbol]
    if prefix in BINARY_PREFIXES:
        multiplier = 2.0 ** BINARY_PREFIXES[prefix]
    else:
        multiplier = 10.0 ** SI_PREFIXES[prefix]
    return Unit(symbol, base.dimension, base.factor * multiplier, binary=base.binary, root=base.symbol)


def known_symbols():
    return sorted(_UNITS)
