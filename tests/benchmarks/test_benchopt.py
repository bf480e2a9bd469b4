"""benchopt's own checks on every benchmark of the suite, in the current environment."""
import subprocess

import pytest

from support import BENCHMARKS, BIN, benchopt_env

NAMES = sorted(p.parent.name for p in BENCHMARKS.glob("*/objective.py"))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_benchopt_test_passes(name, tmp_path):
    # benchopt test starts `python -m pytest` from PATH: benchopt_env puts this environment's first
    proc = subprocess.run(
        [str(BIN / "benchopt"), "test", str(BENCHMARKS / name), "--skip-install", "-q", "-x",
         "-p", "no:cacheprovider"],
        env=benchopt_env(tmp_path / "cache", BENCHOPT_RAISE_ON_ERROR="1", CI="true"),
        capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
