"""Small problems shared by the test modules (importable as ``support``: conftest.py puts this
folder on the path, since pytest's importlib mode does not let test modules import each other)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from l2obench.objectives.lasso import LassoProblem, lambda_max


def lasso_batch(m=20, n=40, batch=8, seed=0, reg=0.1):
    """A float64 dictionary with unit columns, Gaussian signals, λ = reg·λ_max: ``(D, X, lmbd)``."""
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(m, n, generator=g, dtype=torch.float64)
    D /= D.norm(dim=0)
    X = torch.randn(batch, m, generator=g, dtype=torch.float64)
    return D, X, reg * (X @ D).abs().amax(dim=1)


def sparse_coding_split(n_train=512, n_test=256, m=20, n=40, p=0.1, seed=0):
    """Small compressed-sensing problem: Gaussian D with unit columns, Bernoulli-Gaussian codes;
    ``D, (X, Z, lmbd) train, (X, Z, lmbd) test``."""
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(m, n, generator=g, dtype=torch.float64)
    D /= D.norm(dim=0)
    Z = torch.randn(n_train + n_test, n, generator=g, dtype=torch.float64)
    Z *= torch.rand(Z.shape, generator=g, dtype=torch.float64) < p
    X = Z @ D.T
    lmbd = 0.05 * (X @ D).abs().amax(dim=1).clamp_min(1e-3)
    return D, (X[:n_train], Z[:n_train], lmbd[:n_train]), (X[n_train:], Z[n_train:], lmbd[n_train:])


def random_lasso(seed=0, m=20, n=30, B=6, reg=0.3):
    """An unnormalised Gaussian Lasso: ``(LassoProblem, X, lmbd)``."""
    rng = np.random.default_rng(seed)
    D = torch.from_numpy(rng.standard_normal((m, n)))
    X = torch.from_numpy(rng.standard_normal((B, m)))
    return LassoProblem(D), X, reg * lambda_max(D, X)


def assert_reaches(problem, X, lam, ref_value, Z, label=None):
    """``Z`` is at the certified optimum: relative F − F* below 1e-8, and never below −1e-10."""
    rel = (problem.value(X, Z, lam) - ref_value) / ref_value
    assert float(rel.max()) < 1e-8, (label, float(rel.max()))
    assert float(rel.min()) > -1e-10, (label, float(rel.min()))  # nobody beats a certified optimum


def sklearn_lasso_values(problem, X, lmbd):
    """Per-sample Lasso objective at scikit-learn's solution, one fit per signal at tol 1e-14."""
    from sklearn.linear_model import Lasso

    Dn, m = problem.D.numpy(), problem.D.shape[0]
    Z = np.stack([Lasso(alpha=float(l) / m, fit_intercept=False, tol=1e-14, max_iter=100_000)
                  .fit(Dn, x.numpy()).coef_ for x, l in zip(X, lmbd)])
    return problem.value(X, torch.from_numpy(Z), lmbd)


BIN = Path(sys.executable).parent
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def benchopt_env(cache, **extra):
    """The environment of a benchopt subprocess: this environment's ``bin`` first on PATH (benchopt
    starts ``python`` from it), the trained-weight cache in ``cache``, and ``extra`` variables."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "L2OBENCH_CACHE": str(cache),
            **extra}


def run_benchopt(benchmark, *args, cache, timeout=300, **env):
    """``benchopt run benchmarks/<benchmark> --no-plot --no-cache *args`` in :func:`benchopt_env`;
    returns the finished process (stdout and stderr captured as text)."""
    cmd = [str(BIN / "benchopt"), "run", str(BENCHMARKS / benchmark), "--no-plot", "--no-cache", *args]
    return subprocess.run(cmd, env=benchopt_env(cache, **env), capture_output=True, text=True, timeout=timeout)


def assert_dual_is_a_tight_lower_bound(problem, X, lam, tol):
    """Weak duality at random points (dual ≤ primal, anywhere) and a gap closed to ``tol`` at the
    certified solution; returns that solution."""
    from l2obench.solvers.classical.reference import certified_solve

    gen = torch.Generator().manual_seed(0)
    n = problem.shape[1]
    for _ in range(5):
        Z1, Z2 = (torch.randn(X.shape[0], n, generator=gen, dtype=torch.float64) for _ in range(2))
        assert torch.all(problem.dual_value(X, Z1, lam) <= problem.value(X, Z2, lam) + 1e-12)
    ref = certified_solve(problem, X, lam, tol=tol)
    assert torch.all(problem.dual_value(X, ref.Z, lam) >= ref.value * (1 - tol))
    return ref


def assert_untrained_layers_are_ista(model, problem, X, lmbd, depth):
    """Layer k of an untrained model with the analytic weights is ISTA's k-th iterate (k = 1..depth)."""
    from l2obench.solvers.classical.proximal_gradient import ProximalGradient

    ista = ProximalGradient(accelerated=False)
    with torch.no_grad():
        for k in range(1, depth + 1):
            assert torch.allclose(model(X, lmbd, n_layers=k), ista.solve(problem, X, lmbd, k), atol=1e-12, rtol=0)
    return ista


REPO = Path(__file__).resolve().parents[1]


def load_script(path, name, on_path=False):
    """Import a benchmark's script (``path`` relative to the repository) as module ``name``;
    ``on_path``: its folder first on ``sys.path``, for a script that imports its neighbours by name."""
    path = REPO / path
    if on_path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
