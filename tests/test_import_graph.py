"""No import cycle in course_lib or course_tools, counting imports deferred into functions."""
from __future__ import annotations

import importlib.util

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
import_graph = importlib.util.module_from_spec(spec)
spec.loader.exec_module(import_graph)


def test_the_packages_have_no_import_cycle():
    edges = import_graph.graph(ROOT, ("course_lib", "course_tools"))
    assert "course_lib.transformer" in edges and "course_tools.grading" in edges
    assert import_graph.cycles(edges) == []


def test_a_cycle_through_a_deferred_import_is_found(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from pkg import a\n")
    (package / "c.py").write_text("import pkg.a\n")
    edges = import_graph.graph(tmp_path, ("pkg",))
    assert edges["pkg.c"] == {"pkg.a"}
    assert import_graph.cycles(edges) == [["pkg.a", "pkg.b"]]
