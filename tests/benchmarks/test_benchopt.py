"""benchopt's own checks on every benchmark of the suite, in the current environment."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = sorted(p.parent.name for p in (ROOT / "benchmarks").glob("*/objective.py"))


@pytest.mark.slow
@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchopt_test_passes(name, tmp_path):
    bin_dir = Path(sys.executable).parent
    # benchopt test starts `python -m pytest` from PATH: it must be this environment's python
    env = {**os.environ, "BENCHOPT_RAISE_ON_ERROR": "1", "L2OBENCH_CACHE": str(tmp_path / "cache"),
           "CI": "true", "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    benchopt = bin_dir / "benchopt"
    proc = subprocess.run(
        [str(benchopt), "test", str(ROOT / "benchmarks" / name), "--skip-install", "-q", "-x",
         "-p", "no:cacheprovider"],
        env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
