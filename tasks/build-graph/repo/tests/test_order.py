import pytest

from depgraph import CycleError, DepGraph, build_order, find_cycle, layers, load_spec

SPEC = """\
app: lib-http lib-db
lib-http: lib-core
lib-db: lib-core
tools: lib-core
"""


def test_build_order_is_alphabetical_among_ready_targets():
    assert build_order(load_spec(SPEC)) == ["lib-core", "lib-db", "lib-http", "app", "tools"]


def test_build_order_respects_every_edge():
    graph = load_spec("d: c b\nc: a\nb: a\ne: d a\n")
    order = build_order(graph)
    position = {target: i for i, target in enumerate(order)}
    for target in graph.targets():
        for dep in graph.dependencies(target):
            assert position[dep] < position[target]


def test_layers():
    assert layers(load_spec(SPEC)) == [["lib-core"], ["lib-db", "lib-http", "tools"], ["app"]]


def test_cycles():
    graph = load_spec("a: b\nb: c\nc: a\nd: a\n")
    assert find_cycle(graph) == ["a", "b", "c"]
    with pytest.raises(CycleError) as excinfo:
        build_order(graph)
    assert excinfo.value.cycle == ["a", "b", "c"]
    with pytest.raises(CycleError):
        layers(graph)


def test_no_cycle():
    assert find_cycle(load_spec(SPEC)) is None


def test_empty_graph():
    assert build_order(DepGraph()) == []
    assert layers(DepGraph()) == []
