import pytest

from leaderboard import Score, rank


def scores(*rows):
    return [Score(player, points, at) for player, points, at in rows]


def test_rank_orders_by_points():
    ranked = rank(scores(("ann", 10, 1.0), ("bob", 30, 2.0), ("cid", 20, 3.0)))
    assert [(e.rank, e.player) for e in ranked] == [(1, "bob"), (2, "cid"), (3, "ann")]


def test_ordinal_ties_first_to_reach_wins():
    ranked = rank(scores(("ann", 50, 1.0), ("bob", 50, 2.0), ("cid", 70, 3.0)))
    assert [(e.rank, e.player) for e in ranked] == [(1, "cid"), (2, "ann"), (3, "bob")]


def test_shared_ranks_skip_after_ties():
    ranked = rank(scores(("ann", 90, 1.0), ("bob", 70, 2.0), ("cid", 70, 3.0), ("dee", 60, 4.0)), mode="shared")
    assert [(e.rank, e.player) for e in ranked] == [(1, "ann"), (2, "bob"), (2, "cid"), (4, "dee")]


def test_rank_empty_and_bad_mode():
    assert rank([]) == []
    with pytest.raises(ValueError):
        rank([], mode="dense")
