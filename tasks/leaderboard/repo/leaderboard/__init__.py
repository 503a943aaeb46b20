"""leaderboard: in-memory high-score tables for games and contests."""

from .board import Leaderboard, UnknownPlayer
from .models import RankedEntry, Score
from .ranking import rank
from .render import render_table

__all__ = ["Leaderboard", "RankedEntry", "Score", "UnknownPlayer", "rank", "render_table"]
__version__ = "0.9.1"
