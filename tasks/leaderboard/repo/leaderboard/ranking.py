"""Turning scores into ranks."""

from .models import RankedEntry

ORDINAL = "ordinal"  # 1, 2, 3, 4: ties are broken, every player gets their own rank
SHARED = "shared"  # 1, 2, 2, 4: players with equal points share a rank ("competition" ranking)


def order(scores):
    """Best first: more points first; on equal points, whoever reached the score first.

    ``scores`` come from the board in the order the players were first seen; ``sorted`` is
    stable, so players with equal points keep that order.
    """
    return sorted(scores, key=lambda score: score.points, reverse=True)


def rank(scores, mode=ORDINAL):
    """Return ``RankedEntry`` objects, best first, numbered according to ``mode``."""
    if mode not in (ORDINAL, SHARED):
        raise ValueError(f"unknown ranking mode: {mode!r}")
    entries = []
    previous = None
    for position, score in enumerate(order(scores), start=1):
        if mode == SHARED and previous is not None and score.points == previous.points:
            number = entries[-1].rank
        else:
            number = position
        entries.append(RankedEntry(number, score.player, score.points, score.achieved_at))
        previous = score
    return entries
