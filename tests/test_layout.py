"""The layout shows the design (ARCHITECTURE.md): dependencies point one way, files stay short,
problem-specific code says its problem in its path, and the tests mirror the library."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["objectives", "datasets", "solvers", "results"]  # a layer imports only the layers before it
ALLOWED = {"objectives": set(), "datasets": {"objectives"}, "solvers": {"objectives", "datasets"},
           "results": {"objectives", "datasets", "solvers"}}
PROBLEMS = ("lasso", "tv", "sparse_analysis", "shortest_path")


def library_files():
    return [path for layer in LAYERS for path in sorted((ROOT / layer).rglob("*.py"))]


def imported_modules(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {name for name in names if name.startswith("l2obench.")}


def imported_layers(path):
    return {name.split(".")[1] for name in imported_modules(path)}


@pytest.mark.parametrize("path", library_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_dependencies_point_one_way(path):
    layer = path.relative_to(ROOT).parts[0]
    wrong = imported_layers(path) - ALLOWED[layer] - {layer}
    assert not wrong, f"{path.relative_to(ROOT)} ({layer}) imports {sorted(wrong)}"


def test_no_library_file_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in library_files() if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_problem_specific_modules_say_their_problem():
    """A module that imports a problem's objective is that problem's: its path names the problem
    (the problem interface, the benchopt bases and the fit pipeline import none)."""
    for path in (ROOT / "solvers").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        imports = imported_modules(path)
        for problem, module in (("lasso", "objectives.lasso"), ("tv", "objectives.tv_"),
                                ("sparse_analysis", "objectives.sparse_analysis"),
                                ("shortest_path", "objectives.shortest_path"), ("ct", "objectives.ct")):
            if any(name.startswith(f"l2obench.{module}") for name in imports):
                assert any(p in rel for p in (problem, *PROBLEMS)), f"{rel} uses {module} but its path names no problem"


def test_every_library_module_has_a_test_file():
    """tests/ mirrors the library: objectives/lasso.py is tested in tests/objectives/test_lasso.py."""
    missing = []
    for path in library_files():
        rel = path.relative_to(ROOT)
        if path.name == "__init__.py" or rel.parts[0] == "results":
            continue
        if not (ROOT / "tests" / rel.parent / f"test_{path.name}").exists():
            missing.append(str(rel))
    assert not missing, f"no test file mirrors {missing}"
