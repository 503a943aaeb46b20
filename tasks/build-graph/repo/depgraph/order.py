"""Build orders."""

from .graph import CycleError


def build_order(graph):
    """All targets, each after its dependencies.

    Among the targets that are ready at any point, the alphabetically smallest is
    taken first, so the order is reproducible. Raises ``CycleError`` on cycles.
    """
    remaining = {target: len(graph.dependencies(target)) for target in graph.targets()}
    ready = sorted(target for target, count in remaining.items() if count == 0)
    order = []
    while ready:
        target = ready.pop(0)
        order.append(target)
        for dependent in graph.dependents(target):
            remaining[dependent] -= 1
            if remaining[dependent] == 0:
                ready.append(dependent)
                ready.sort()
    if len(order) != len(remaining):
        raise CycleError(find_cycle(graph))
    return order


def layers(graph):
    """Targets grouped by depth: every target's dependencies are in earlier layers."""
    remaining = {target: len(graph.dependencies(target)) for target in graph.targets()}
    current = [target for target, count in remaining.items() if count == 0]
    result = []
    seen = 0
    while current:
        result.append(sorted(current))
        seen += len(current)
        following = []
        for target in current:
            for dependent in graph.dependents(target):
                remaining[dependent] -= 1
                if remaining[dependent] == 0:
                    following.append(dependent)
        current = following
    if seen != len(remaining):
        raise CycleError(find_cycle(graph))
    return result


def find_cycle(graph):
    """One dependency cycle as a list of targets, or ``None``."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = dict.fromkeys(graph.targets(), WHITE)
    for root in graph.targets():
        if color[root] != WHITE:
            continue
        stack = [(root, iter(graph.dependencies(root)))]
        path = [root]
        color[root] = GREY
        while stack:
            node, children = stack[-1]
            for child in children:
                if color[child] == GREY:
                    return path[path.index(child):]
                if color[child] == WHITE:
                    color[child] = GREY
                    path.append(child)
                    stack.append((child, iter(graph.dependencies(child))))
                    break
            else:
                color[node] = BLACK
                path.pop()
                stack.pop()
    return None
