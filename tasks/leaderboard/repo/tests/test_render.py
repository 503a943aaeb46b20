from leaderboard import Leaderboard, render_table


def test_render_table():
    board = Leaderboard("Weekly", mode="shared")
    board.submit("ann", 1200, at=1.0)
    board.submit("bartholomew", 950, at=2.0)
    board.submit("cid", 950, at=3.0)
    text = render_table(board.standings(), title="Weekly", highlight="cid")
    assert text.splitlines() == [
        "Weekly",
        "======",
        " #  player       points",
        " 1  ann           1,200",
        " 2  bartholomew     950",
        ">2  cid             950",
    ]


def test_render_empty():
    assert render_table([]) == " #  player  points"
