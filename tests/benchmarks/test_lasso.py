"""The lasso benchmark end to end: a diverging solver leaves flagged rows, not a lost curve."""
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from l2obench.results.tables import tidy

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_diverging_solver_gives_flagged_rows(tmp_path):
    out = tmp_path / "run.parquet"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "L2OBENCH_CACHE": str(tmp_path / "cache")}
    cmd = [str(bin_dir / "benchopt"), "run", str(ROOT / "benchmarks" / "lasso"), "--no-plot", "--no-cache",
           "-s", "ISTA[accelerated=False,step=[1.0,4.0]]", "-o", "lasso[reg=0.05,dtype=float64]",
           "-d", "equiregularized[n_train=16,n_test=16,n_dim=16,n_atoms=32]",
           "-n", "25", "--timeout", "120", "--seed", "0", "--output", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = tidy(pd.read_parquet(out))
    steps = table["solver"].str.extract(r"step=([0-9.]+)")[0].astype(float)
    stable, diverging = table[steps == 1.0], table[steps == 4.0]
    assert not stable["diverged"].any() and stable["value"].notna().all()
    assert diverging["diverged"].any(), "the step-4/L curve should be flagged, not dropped"
    assert diverging.loc[diverging["diverged"], "value"].isna().all()
