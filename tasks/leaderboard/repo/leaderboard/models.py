"""Value objects."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Score:
    """A player's best result: ``points`` first reached at ``achieved_at`` (epoch seconds)."""

    player: str
    points: int
    achieved_at: float


@dataclass(frozen=True)
class RankedEntry:
    rank: int
    player: str
    points: int
    achieved_at: float
