"""SI and binary (IEC) prefixes."""

# Engineering prefixes: one every power of 1000. ``humanize`` only ever picks one of these.
ENGINEERING = [
    ("q", -30), ("r", -27), ("y", -24), ("z", -21), ("a", -18), ("f", -15), ("p", -12),
    ("n", -9), ("µ", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12),
    ("P", 15), ("E", 18), ("Z", 21), ("Y", 24), ("R", 27), ("Q", 30),
]

# Every prefix accepted when parsing, with its power of ten. "u" is the ASCII spelling of micro.
SI_PREFIXES = dict(ENGINEERING)
SI_PREFIXES.update({"c": -2, "d": -1, "da": 1, "h": 2, "u": -6})
del SI_PREFIXES[""]

BINARY = [("", 0), ("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)]
BINARY_PREFIXES = dict(BINARY[1:])


def scale(value):
    """Pick the engineering prefix that brings ``abs(value)`` into ``[1, 1000)``.

    Returns ``(scaled_value, prefix)``, e.g. ``scale(1500) == (1.5, "k")`` and
    ``scale(0.00042) == (420.0, "µ")``. Values beyond the largest or smallest prefix
    keep that prefix.
    """
    index = [symbol for symbol, _ in ENGINEERING].index("")
    magnitude = abs(value)
    while magnitude >= 1000 and index < len(ENGINEERING) - 1:
        magnitude /= 1000
        index += 1
    while magnitude < 1 and index > 0:
        magnitude *= 1000
        index -= 1
    symbol, exponent = ENGINEERING[index]
    return value / 10.0 ** exponent, symbol


def scale_binary(value):
    """Like ``scale`` with powers of 1024 and IEC prefixes (KiB, MiB...); never scales down."""
    index = 0
    magnitude = abs(value)
    while magnitude >= 1024 and index < len(BINARY) - 1:
        magnitude /= 1024
        index += 1
    symbol, power = BINARY[index]
    return value / 2 ** power, symbol


def split_prefix(symbol, units, binary_ok=lambda unit: False):
    """Split ``"km"`` into ``("k", "m")`` given the known unit symbols; ``None`` if impossible."""
    for prefix in sorted(list(SI_PREFIXES) + list(BINARY_PREFIXES), key=len, reverse=True):
        if symbol.startswith(prefix) and symbol[len(prefix):] in units:
            base = symbol[len(prefix):]
            if prefix in BINARY_PREFIXES and not binary_ok(base):
                continue
            return prefix, base
    return None
