"""benchmarks/lasso/scaling.py --quick: the CSV has its columns, the ratios to the floor are sane."""
import numpy as np
import pandas as pd
from support import load_script as load


def load_script():
    return load("benchmarks/lasso/scaling.py", "lasso_scaling", on_path=True)  # it imports speed.py


def test_quick_run_writes_csv_and_figure(tmp_path):
    scaling = load_script()
    scaling.main(["--quick", "--devices", "cpu", "--out", str(tmp_path), "--n-iter", "3", "--repeats", "2"])
    df = pd.read_csv(tmp_path / "lasso_scaling.csv")
    assert list(df.columns) == scaling.COLUMNS
    assert (tmp_path / "lasso_scaling.png").stat().st_size > 0
    assert set(zip(df.solver, df.form)) == set(scaling.SOLVERS)
    assert set(df.sweep) == {"batch", "size"}
    assert np.isfinite(df.ratio).all() and np.isfinite(df.time_per_iter_s).all()
    # no assertion on the ratios' size: 3 iterations on a shared machine are timing noise (a
    # difference of two run lengths can even come out negative); the benchmark run reports them
    assert (df.peak_bytes > 0).all() and set(df.memory) == {"analytic"}
