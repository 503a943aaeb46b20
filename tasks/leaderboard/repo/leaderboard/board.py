"""The leaderboard."""

import time

from .models import Score
from .ranking import ORDINAL, rank


class UnknownPlayer(KeyError):
    pass


class Leaderboard:
    """Keeps each player's best score and ranks players by it.

    A player's entry only changes when they beat their own best; matching it again later does
    not move them, since whoever reaches a score first ranks higher.
    """

    def __init__(self, name, mode=ORDINAL, clock=time.time):
        self.name = name
        self.mode = mode
        self._clock = clock
        self._best = {}  # player -> Score, in the order players were first seen

    def submit(self, player, points, at=None):
        """Record a result; returns True when it is a new personal best."""
        if not player:
            raise ValueError("player name is required")
        if points < 0:
            raise ValueError("points cannot be negative")
        at = self._clock() if at is None else at
        best = self._best.get(player)
        if best is not None and points <= best.points:
            return False
        self._best[player] = Score(player, points, at)
        return True

    def remove(self, player):
        try:
            del self._best[player]
        except KeyError:
            raise UnknownPlayer(player) from None

    def best(self, player):
        try:
            return self._best[player]
        except KeyError:
            raise UnknownPlayer(player) from None

    def standings(self):
        return rank(self._best.values(), self.mode)

    def top(self, n=10):
        return self.standings()[:n]

    def rank_of(self, player):
        for entry in self.standings():
            if entry.player == player:
                return entry.rank
        raise UnknownPlayer(player)

    def around(self, player, radius=2):
        """The player's entry with up to ``radius`` entries above and below."""
        standings = self.standings()
        for index, entry in enumerate(standings):
            if entry.player == player:
                return standings[max(0, index - radius): index + radius + 1]
        raise UnknownPlayer(player)

    def __len__(self):
        return len(self._best)

    def __contains__(self, player):
        return player in self._best
