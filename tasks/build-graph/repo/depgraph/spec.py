"""Parsing the ``target: dep dep ...`` spec format."""

from .graph import DepGraph


class SpecError(ValueError):
    def __init__(self, lineno, message):
        super().__init__(f"line {lineno}: {message}")
        self.lineno = lineno


def _logical_lines(text):
    """Yield ``(lineno, line)`` with comments removed and ``\\`` continuations joined."""
    buffer, start = "", None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if start is None:
            start = lineno
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            yield start, buffer.strip()
        buffer, start = "", None
    if buffer.strip():
        yield start, buffer.strip()


def load_spec(text, graph=None):
    """Add the targets and dependencies described by ``text`` to ``graph`` (a new one by default)."""
    graph = DepGraph() if graph is None else graph
    for lineno, line in _logical_lines(text):
        target, sep, deps = line.partition(":")
        target = target.strip()
        if not sep:
            raise SpecError(lineno, "expected 'target: dependencies'")
        if not target or " " in target:
            raise SpecError(lineno, f"invalid target {target!r}")
        graph.add_target(target)
        for dep in deps.split():
            graph.add_dependency(target, dep)
    return graph
