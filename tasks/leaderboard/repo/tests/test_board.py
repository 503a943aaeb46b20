import pytest

from leaderboard import Leaderboard, UnknownPlayer


@pytest.fixture
def board():
    b = Leaderboard("weekly")
    b.submit("ann", 120, at=10.0)
    b.submit("bob", 300, at=11.0)
    b.submit("cid", 200, at=12.0)
    b.submit("dee", 80, at=13.0)
    b.submit("eve", 250, at=14.0)
    return b


def test_top(board):
    assert [e.player for e in board.top(3)] == ["bob", "eve", "cid"]
    assert len(board.top()) == 5


def test_submit_keeps_personal_best(board):
    assert board.submit("ann", 100, at=20.0) is False
    assert board.submit("ann", 400, at=21.0) is True
    assert board.best("ann").points == 400
    assert board.rank_of("ann") == 1


def test_matching_own_best_does_not_refresh_time(board):
    assert board.submit("cid", 200, at=99.0) is False
    assert board.best("cid").achieved_at == 12.0


def test_ties_first_submitted_ranks_higher():
    board = Leaderboard("daily")
    board.submit("ann", 500, at=1.0)
    board.submit("bob", 500, at=2.0)
    assert [e.player for e in board.standings()] == ["ann", "bob"]


def test_rank_of_and_around(board):
    assert board.rank_of("dee") == 5
    assert [e.player for e in board.around("cid", radius=1)] == ["eve", "cid", "ann"]
    assert [e.player for e in board.around("bob", radius=1)] == ["bob", "eve"]


def test_unknown_player(board):
    with pytest.raises(UnknownPlayer):
        board.rank_of("zed")
    with pytest.raises(UnknownPlayer):
        board.remove("zed")


def test_validation():
    board = Leaderboard("x")
    with pytest.raises(ValueError):
        board.submit("", 10)
    with pytest.raises(ValueError):
        board.submit("ann", -1)


def test_default_clock():
    board = Leaderboard("x", clock=lambda: 42.0)
    board.submit("ann", 1)
    assert board.best("ann").achieved_at == 42.0


def test_remove(board):
    board.remove("bob")
    assert "bob" not in board
    assert board.rank_of("eve") == 1
