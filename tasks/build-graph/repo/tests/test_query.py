import pytest

from depgraph import UnknownTarget, affected, all_dependencies, load_spec

SPEC = """\
app: lib-http lib-db
lib-http: lib-core
lib-db: lib-core
tools: lib-core
docs:
"""


def test_all_dependencies_in_build_order():
    assert all_dependencies(load_spec(SPEC), "app") == ["lib-core", "lib-db", "lib-http"]
    assert all_dependencies(load_spec(SPEC), "docs") == []


def test_affected():
    graph = load_spec(SPEC)
    assert affected(graph, ["lib-db"]) == ["lib-db", "app"]
    assert affected(graph, ["lib-core"]) == ["lib-core", "lib-db", "lib-http", "app", "tools"]


def test_affected_unknown_target():
    with pytest.raises(UnknownTarget):
        affected(load_spec(SPEC), ["nope"])
