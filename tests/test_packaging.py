"""The non-editable install: the wheel holds every library module under ``l2obench.*``."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = {"objectives": "l2obench.objectives", "datasets": "l2obench.datasets",
           "solvers": "l2obench.solvers", "results": "l2obench.results"}


def library_modules():
    for folder, package in LIBRARY.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            yield package.replace(".", "/") + "/" + rel.as_posix() + ".py", \
                ".".join([package, *rel.parts]).removesuffix(".__init__")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True)
    (path,) = out.glob("l2obench-*.whl")
    return path


def test_wheel_contains_every_library_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [file for file, _ in library_modules() if file not in names]
    assert not missing, f"not packaged (add the subpackage to pyproject.toml): {missing}"
    assert not any(n.startswith(("datasets/", "solvers/", "objectives/")) for n in names), \
        "library folders must not be installed as top-level packages"


def test_every_module_imports_from_the_wheel(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path)
    modules = [module for _, module in library_modules()]
    # drop the editable-install finder so that imports can only come from the wheel
    code = (
        "import sys\n"
        "sys.meta_path = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    mod = importlib.import_module(name)\n"
        f"    assert mod.__file__.startswith({str(tmp_path)!r}), (name, mod.__file__)\n"
        "print('ok', len(" + repr(modules) + "))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
