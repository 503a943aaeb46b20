import pytest

from depgraph import SpecError, load_spec

SPEC = """\
# services
app: lib-http lib-db   # main binary
lib-http: lib-core
lib-db: lib-core \\
        lib-sql
lib-core:
"""


def test_load_spec():
    graph = load_spec(SPEC)
    assert graph.targets() == ["app", "lib-core", "lib-db", "lib-http", "lib-sql"]
    assert graph.dependencies("lib-db") == ["lib-core", "lib-sql"]


def test_spec_errors_report_line_numbers():
    with pytest.raises(SpecError) as excinfo:
        load_spec("a: b\n\nnot a rule\n")
    assert excinfo.value.lineno == 3


def test_load_into_existing_graph():
    graph = load_spec("a: b\n")
    load_spec("b: c\n", graph)
    assert graph.targets() == ["a", "b", "c"]
