"""The lasso benchmark end to end: a diverging solver leaves flagged rows, not a lost curve."""
import pandas as pd
import pytest

from l2obench.results.tables import tidy
from support import run_benchopt


@pytest.mark.slow
def test_diverging_solver_gives_flagged_rows(tmp_path):
    out = tmp_path / "run.parquet"
    proc = run_benchopt("lasso", "-s", "ISTA[accelerated=False,step=[1.0,4.0]]", "-o", "lasso[reg=0.05,dtype=float64]",
                        "-d", "equiregularized[n_train=16,n_test=16,n_dim=16,n_atoms=32]",
                        "-n", "25", "--timeout", "120", "--seed", "0", "--output", str(out),
                        cache=tmp_path / "cache", timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = tidy(pd.read_parquet(out))
    steps = table["solver"].str.extract(r"step=([0-9.]+)")[0].astype(float)
    stable, diverging = table[steps == 1.0], table[steps == 4.0]
    assert not stable["diverged"].any() and stable["value"].notna().all()
    assert diverging["diverged"].any(), "the step-4/L curve should be flagged, not dropped"
    assert diverging.loc[diverging["diverged"], "value"].isna().all()


@pytest.mark.slow
def test_a_bad_later_dataset_fails_before_anything_runs(tmp_path):
    """`-d good -d bad`: the bad parameter is named before the first data set runs (it used to
    abort the run after the first one had finished, with no result file)."""
    out = tmp_path / "run.parquet"
    proc = run_benchopt("lasso", "-s", "ISTA[accelerated=False]", "-d", "compressed-sensing[n_train=64,n_test=16]",
                        "-d", "equiregularized[n_test=0]", "-n", "3", "--output", str(out), cache=tmp_path / "cache")
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text[-3000:]                      # click's usage error, not a crash
    assert "equiregularized[n_atoms=256,n_dim=64,n_test=0,n_train=10000]: n_test must be >= 1" in text
    assert "Traceback" not in text and "ISTA" not in text           # no solver started
    assert not out.exists()


@pytest.mark.parametrize("selection, message", [
    (["-s", "ISTA[accelerated=False,step=-1.0]"], "solver ISTA[accelerated=False,step=-1.0]: step must be > 0.0"),
    (["-s", "ISTA[accelerated=False]", "-s", "SLISTA[n_layers=3,loss=unsupervised,n_steps=0]"], "n_steps must be >= 1"),
    (["-s", "ISTA[accelerated=False]", "-o", "lasso[reg=2.0]"], "objective lasso[dtype=float32,reg=2.0]: reg must be <= 1.0"),
])
def test_bad_solver_or_objective_parameters_fail_before_anything_runs(tmp_path, selection, message):
    """Solver and objective parameters are checked when benchopt creates them, before any run
    (ClassicalSolver / LearnedSolver / the objectives' check_parameters)."""
    proc = run_benchopt("lasso", "-d", "equiregularized[n_train=16,n_test=8,n_dim=8,n_atoms=16]", "-n", "2",
                        *selection, "--output", str(tmp_path / "run.parquet"), cache=tmp_path / "cache")
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2 and message in text, text[-3000:]
    assert not (tmp_path / "run.parquet").exists()
