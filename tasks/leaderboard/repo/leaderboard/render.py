"""Plain-text rendering."""


def render_table(entries, title=None, highlight=None):
    """Render ranked entries as a fixed-width table; ``highlight`` marks one player with ``>``."""
    rows = [("#", "player", "points")]
    rows += [(str(e.rank), e.player, f"{e.points:,}") for e in entries]
    rank_width = max(len(r[0]) for r in rows)
    name_width = max(len(r[1]) for r in rows)
    points_width = max(len(r[2]) for r in rows)
    lines = []
    if title:
        lines.append(title)
        lines.append("=" * len(title))
    for index, (number, player, points) in enumerate(rows):
        marker = ">" if index and entries[index - 1].player == highlight else " "
        lines.append(f"{marker}{number:>{rank_width}}  {player:<{name_width}}  {points:>{points_width}}")
    return "\n".join(lines)
