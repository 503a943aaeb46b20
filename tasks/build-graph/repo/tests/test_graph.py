import pytest

from depgraph import CycleError, DepGraph, UnknownTarget


def test_dependencies_and_dependents():
    graph = DepGraph()
    graph.add_dependency("app", "lib-http")
    graph.add_dependency("app", "lib-db")
    graph.add_dependency("lib-http", "lib-core")
    assert graph.targets() == ["app", "lib-core", "lib-db", "lib-http"]
    assert graph.dependencies("app") == ["lib-db", "lib-http"]
    assert graph.dependents("lib-core") == ["lib-http"]
    assert graph.edge_count() == 3
    assert len(graph) == 4 and "app" in graph


def test_duplicate_edges_are_ignored():
    graph = DepGraph()
    graph.add_dependency("a", "b")
    graph.add_dependency("a", "b")
    assert graph.edge_count() == 1


def test_self_dependency_is_a_cycle():
    with pytest.raises(CycleError):
        DepGraph().add_dependency("a", "a")


def test_invalid_and_unknown_targets():
    graph = DepGraph()
    with pytest.raises(ValueError):
        graph.add_target("has space")
    with pytest.raises(UnknownTarget):
        graph.dependents("nope")
