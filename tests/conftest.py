import os
import sys
from pathlib import Path

import pytest

from l2obench.solvers.threads import set_torch_threads, torch_threads

# shared test problems (tests/support.py) importable as `support` under pytest's importlib mode
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Unit tests use small matrices: one thread avoids thread start-up costs and keeps the run
# predictable when other processes share the cores (OpenMP spinning made tiny problems up to
# 80x slower on a loaded 2-core machine).
set_torch_threads(1)
# and so do the benchopt subprocesses the tests start (pytest runs -n auto: workers side by side)
os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"


@pytest.fixture(autouse=True)
def _one_thread():
    """Every test starts on one thread, whatever an earlier test left behind."""
    with torch_threads(1):
        yield


@pytest.fixture(scope="session")
def tv_problems():
    """Two small float64 TV problems (Gaussian and HRF operators) with certified references."""
    from l2obench.datasets.tv_deconvolution import make_fmri_like, make_tv_synthetic
    from l2obench.objectives.tv_deconvolution import TVProblem
    from l2obench.solvers.classical.reference import certified_solve

    out = []
    for data, reg in ((make_tv_synthetic(5, 6, n_dim=8, n_measurements=10, seed=1), 0.3),
                      (make_fmri_like(5, 6, n_times=40, snr=15.0, seed=2), 0.1)):
        problem, X = TVProblem(data.H), data.X_test
        lam = reg * problem.lambda_max(X)
        out.append((problem, X, lam, certified_solve(problem, X, lam, tol=1e-13, max_iter=20_000)))
    return out


@pytest.fixture(scope="session")
def lasso_reference():
    """A small Lasso and scikit-learn's per-sample optimal values: ``(problem, X, lmbd, F_sk)``."""
    from support import random_lasso, sklearn_lasso_values

    problem, X, lmbd = random_lasso()
    return problem, X, lmbd, sklearn_lasso_values(problem, X, lmbd)
