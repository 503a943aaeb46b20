"""Dependency graphs for build targets."""

from .graph import CycleError, DepGraph, UnknownTarget
from .order import build_order, find_cycle, layers
from .query import affected, all_dependencies
from .spec import SpecError, load_spec

__all__ = [
    "CycleError",
    "DepGraph",
    "SpecError",
    "UnknownTarget",
    "affected",
    "all_dependencies",
    "build_order",
    "find_cycle",
    "layers",
    "load_spec",
]
__version__ = "1.2.0"
