"""Questions about a graph."""

from collections import deque

from .order import build_order


def _closure(start, neighbours):
    seen = set(start)
    queue = deque(start)
    while queue:
        node = queue.popleft()
        for other in neighbours(node):
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return seen


def all_dependencies(graph, target):
    """Everything ``target`` needs, directly or not, in build order."""
    needed = _closure([target], graph.dependencies) - {target}
    return [t for t in build_order(graph) if t in needed]


def affected(graph, changed):
    """The changed targets and everything that depends on them, in build order."""
    for target in changed:
        graph.dependencies(target)  # raises UnknownTarget
    hit = _closure(list(changed), graph.dependents)
    return [t for t in build_order(graph) if t in hit]
