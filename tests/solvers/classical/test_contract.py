"""The contract every classical solver of the Lasso keeps, written once for all of them:
z = 0 above λ_max, a batch solved as its rows one by one, float32 tracking float64, and bad input
rejected with an error naming the parameter (``problem.check_inputs``), and the same optimum as
scikit-learn and the certified reference."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers.classical.admm import ADMM
from l2obench.solvers.classical.lasso_oracle_ista import OracleISTA
from l2obench.solvers.classical.lasso_sklearn import SklearnLasso
from l2obench.solvers.classical.pdhg import PDHG
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.classical.reference import certified_solve
from support import assert_reaches
from support import random_lasso as lasso

SOLVERS = {
    "ISTA": ProximalGradient(), "FISTA": ProximalGradient(accelerated=True),
    "FISTA-residual-form": ProximalGradient(accelerated=True, form="residual"),
    "FISTA-restart": ProximalGradient(accelerated=True, restart=True),
    "ADMM": ADMM(), "PDHG": PDHG(), "OracleISTA": OracleISTA(),
    "sklearn-cd": SklearnLasso("cd"), "sklearn-lars": SklearnLasso("lars"),
}
N_ITER = {"ISTA": 2_000, "FISTA": 1_000, "FISTA-residual-form": 1_000, "FISTA-restart": 1_000, "ADMM": 1_000,
          "PDHG": 3_000, "OracleISTA": 1_000, "sklearn-cd": 10_000, "sklearn-lars": 500}
ITERATIVE = [name for name in SOLVERS if not name.startswith("sklearn-lars")]


@pytest.mark.parametrize("name", SOLVERS)
def test_reaches_sklearn_solution(name, lasso_reference):
    problem, X, lmbd, F_sk = lasso_reference
    F = problem.value(X, SOLVERS[name].solve(problem, X, lmbd, N_ITER[name]), lmbd)
    assert torch.all((F - F_sk).abs() / F_sk <= 1e-8), (F - F_sk) / F_sk


@pytest.mark.parametrize("name", SOLVERS)
def test_reaches_the_certified_optimum(name, lasso_reference):
    problem, X, lmbd, _ = lasso_reference
    ref = certified_solve(problem, X, lmbd, tol=1e-13)
    assert_reaches(problem, X, lmbd, ref.value, SOLVERS[name].solve(problem, X, lmbd, N_ITER[name]), name)


@pytest.mark.parametrize("name", [name for name in SOLVERS if name != "PDHG"])  # PDHG's iterates are not exactly sparse
def test_lambda_above_lambda_max_gives_zero(name):
    problem, X, _ = lasso(1)
    Z = SOLVERS[name].solve(problem, X, 1.01 * problem.lambda_max(X), 50)
    assert torch.all(Z == 0)


@pytest.mark.parametrize("name", ITERATIVE)
def test_batched_equals_per_sample(name):
    problem, X, lmbd = lasso(2)
    solver = SOLVERS[name]
    Z = solver.solve(problem, X, lmbd, 40)
    for i in range(X.shape[0]):
        torch.testing.assert_close(solver.solve(problem, X[i:i + 1], lmbd[i:i + 1], 40)[0], Z[i],
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["ISTA", "FISTA", "ADMM", "PDHG", "OracleISTA"])
def test_float32_iterates_track_float64(name):
    # float32 must not break a solver (OracleISTA once normalised by a float64-only epsilon)
    problem, X, lmbd = lasso(8)
    solver = SOLVERS[name]
    Z64 = solver.solve(problem, X, lmbd, 50)
    Z32 = solver.solve(LassoProblem(problem.D.float()), X.float(), lmbd.float(), 50)
    assert torch.isfinite(Z32).all()
    F64, F32 = problem.value(X, Z64, lmbd), problem.value(X, Z32.double(), lmbd)
    assert torch.all((F32 - F64).abs() <= 1e-4 * F64)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lmbd=-0.1), "lmbd"),
    (dict(lmbd=torch.full((6,), -0.1, dtype=torch.float64)), "lmbd"),
    (dict(X=torch.zeros(3, 7, dtype=torch.float64)), "X has shape"),
    (dict(X=torch.full((3, 20), float("nan"), dtype=torch.float64)), "X contains NaN"),
    (dict(X=torch.zeros(0, 20, dtype=torch.float64), lmbd=0.1), "X must hold at least one signal"),
    (dict(X=torch.zeros(3, 20, dtype=torch.float16), lmbd=0.1), "X must be float32 or float64"),
    (dict(X=torch.zeros(3, 20, dtype=torch.int64), lmbd=0.1), "X must be float32 or float64"),
    (dict(n_iter=-1), "n_iter"),
])
@pytest.mark.parametrize("name", SOLVERS)
def test_bad_input_raises_clear_error(name, kwargs, match):
    problem, X, lmbd = lasso(6)
    args = dict(problem=problem, X=X, lmbd=lmbd, n_iter=10) | kwargs
    with pytest.raises(ValueError, match=match):
        SOLVERS[name].solve(**args)
