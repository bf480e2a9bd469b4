"""sparse_analysis objective: the problem (input checks), metrics and certificates."""
import math

import pytest
import torch

from l2obench.datasets.sparse_analysis import make_sparse_analysis
from l2obench.objectives import metrics
from l2obench.objectives import sparse_analysis as sa
from l2obench.objectives.problem import AnalysisL1
from l2obench.solvers.classical.linearized_admm import analytic_transform

SMALL = dict(n=24, latent_dim=3, m=10, n_train=128, n_val=32, n_test=32, shift=2)
DT = torch.float64


@pytest.fixture(scope="module")
def data():
    return make_sparse_analysis(**SMALL, seed=0)


def test_metrics(data):
    x, A, d = data["x_test"], data["A"], data["d_test"]
    assert float(sa.relative_error(x, x).max()) == 0.0
    assert float(sa.constraint_violation(x, A, d).max()) < 1e-14
    x_ls = d @ torch.linalg.pinv(A).T
    assert float(sa.constraint_violation(x_ls, A, d).max()) < 1e-12
    assert float(sa.relative_error(x_ls, x).mean()) > 0.3
    diff = analytic_transform(24, "difference")
    assert float(sa.sparsity(x, diff).min()) >= (24 - 3 - 1) / 24      # at most latent_dim + 1 jumps
    assert float(sa.sparsity(x_ls, diff).mean()) < 0.5


def test_relative_error_is_the_shared_metric(data):
    assert sa.relative_error is metrics.relative_error
    x, x_ls = data["x_test"], data["d_test"] @ torch.linalg.pinv(data["A"]).T
    torch.testing.assert_close(sa.relative_error(x_ls, x), (x_ls - x).norm(dim=1) / x.norm(dim=1))
    assert sa.relative_error(x_ls, x).shape == (32,)


def test_evaluate_flags_divergence_instead_of_raising(data):
    x = data["x_test"].clone()
    x[0, 0] = math.nan
    out = sa.evaluate(x, data["x_test"], data["A"], data["d_test"], calibration=(data["x_train"], data["d_train"]))
    assert out["diverged"] and math.isnan(out["rel_error"]) and math.isnan(out["cert_fidelity_fail"])
    ok = sa.evaluate(data["x_test"], data["x_test"], data["A"], data["d_test"],
                     calibration=(data["x_train"], data["d_train"]))
    assert not ok["diverged"] and ok["rel_error"] == 0.0


def test_problem_holds_the_transform_as_an_analysis_penalty(data):
    A = data["A"]
    basis_pursuit = sa.SparseAnalysisProblem(A)
    assert isinstance(basis_pursuit.penalty, AnalysisL1) and basis_pursuit.shape == (10, 24)
    assert torch.equal(basis_pursuit.penalty.K, torch.eye(24, dtype=DT))
    D = analytic_transform(24, "difference", dtype=torch.float32)
    problem = sa.SparseAnalysisProblem(A, D)
    assert problem.penalty.K.dtype == DT and torch.equal(problem.penalty.K, D.double())
    x = data["x_test"]
    torch.testing.assert_close(problem.value(x), sa.analysis_l1(x, D.double()))
    assert problem.to_output(x) is x
    assert len(problem.fingerprint_tensors()) == 2 and problem.fingerprint_tensors()[0] is A
    with pytest.raises(NotImplementedError):
        problem.penalty.prox(x, 1.0)


def test_problem_rejects_bad_input(data):
    A = data["A"]
    with pytest.raises(ValueError, match="underdetermined"):
        sa.SparseAnalysisProblem(A.T)
    with pytest.raises(ValueError, match="underdetermined"):
        sa.SparseAnalysisProblem(A[:, :10])
    with pytest.raises(ValueError, match="NaN"):
        sa.SparseAnalysisProblem(A * math.nan)
    with pytest.raises(ValueError, match="^A must have 2 dimensions"):
        sa.SparseAnalysisProblem(A[0])
    with pytest.raises(ValueError, match="^theta contains NaN"):  # the argument's name, not AnalysisL1's K
        sa.SparseAnalysisProblem(A, torch.eye(24, dtype=DT) * math.inf)
    problem = sa.SparseAnalysisProblem(A)
    d = data["d_test"]
    assert torch.equal(problem.check_data(d), d)
    assert problem.check_data(d.float()).dtype == DT
    d_nan = d.clone()
    d_nan[2, 1] = math.nan
    for d_bad, match in ((d_nan, "d contains NaN"), (d[:0], "at least one"), (d[:, :5], r"d must have shape \(B, 10\)"),
                         (d[0], "d must have shape"), (d[None], "d must have shape"), (d.tolist(), "^d must be")):
        with pytest.raises(ValueError, match=match):
            problem.check_data(d_bad)


def _nan(t):
    t = t.clone()
    t[0, 0] = math.nan
    return t


@pytest.mark.parametrize("case, match", [
    (lambda x, A, d, D: sa.analysis_l1(x[:, :20], D), r"x has shape \(32, 20\): dimension 1 must be 24"),
    (lambda x, A, d, D: sa.analysis_l1(x, D[:, :20]), r"x has shape \(32, 24\): dimension 1 must be 20"),
    (lambda x, A, d, D: sa.analysis_l1(x[:0], D), "x must hold at least one sample"),
    (lambda x, A, d, D: sa.constraint_violation(x, A, d[:5]), r"d has shape \(5, 10\): dimension 0 must be 32"),
    (lambda x, A, d, D: sa.constraint_violation(x, A, d * 0), "d has an all-zero row"),   # was 1e300-scaled
    (lambda x, A, d, D: sa.constraint_violation(x.long(), A.long(), d), "A must be float32 or float64"),
    (lambda x, A, d, D: sa.sparsity(_nan(x), D), "x contains NaN"),                        # was silent
    (lambda x, A, d, D: sa.sparsity(x.half(), D.half()), "theta must be float32 or float64"),
    (lambda x, A, d, D: sa.certificate_thresholds(torch.zeros(0)), "calibration_values is empty"),
    (lambda x, A, d, D: sa.certificate_thresholds(torch.tensor([1.0, math.nan])), "calibration_values contains NaN"),
    (lambda x, A, d, D: sa.certify(torch.ones(3, 2), torch.ones(2)), "values must have 1 dimensions"),
    (lambda x, A, d, D: sa.certificate_rates(torch.zeros(0)), "labels must be a non-empty tensor"),
    (lambda x, A, d, D: sa.normalized_transform(D * 0, 24, DT), r"theta is all zero"),    # was a zero matrix
    (lambda x, A, d, D: sa.normalized_transform(D[:, :20], 24, DT), "theta has shape"),
])
def test_metrics_name_the_bad_input(data, case, match):
    D = analytic_transform(24, "difference", dtype=DT)
    with pytest.raises(ValueError, match=match):
        case(data["x_test"], data["A"], data["d_test"], D)


@pytest.mark.parametrize("change, match", [
    (dict(x_true=lambda t: _nan(t)), "x_true contains NaN"),                 # was rel_error NaN, not flagged
    (dict(x=lambda t: t[:5]), r"x must be a tensor of shape \(32, 24\), got \(5, 24\)"),   # was a RuntimeError
    (dict(x=lambda t: t[:0], x_true=lambda t: t[:0], d=lambda t: t[:0]), "x_true must hold at least one"),
    (dict(d=lambda t: t[:, :5]), r"d has shape \(32, 5\)"),
    (dict(A=lambda t: t.half()), "A must be float32 or float64"),
    (dict(cal=lambda xd: (xd[0][:5], xd[1])), r"x_cal must be a tensor of shape \(128, 24\)"),
    (dict(cal=lambda xd: (xd[0], _nan(xd[1]))), "d_cal contains NaN"),
])
def test_evaluate_names_bad_references_and_shapes(data, change, match):
    args = dict(x=data["x_test"], x_true=data["x_test"], A=data["A"], d=data["d_test"])
    args = {k: change.get(k, lambda t: t)(v) for k, v in args.items()}
    cal = change.get("cal", lambda xd: xd)((data["x_train"], data["d_train"]))
    with pytest.raises(ValueError, match=match):
        sa.evaluate(args["x"], args["x_true"], args["A"], args["d"], calibration=cal)


@pytest.mark.parametrize("A, theta, match", [
    (lambda A: A * 0, None, r"^A is all zero"),                                   # was accepted
    (lambda A: A.half(), None, "^A must be float32 or float64, got torch.float16"),   # was a torch error
    (lambda A: A.long(), None, "^A must be float32 or float64, got torch.int64"),
    (lambda A: A, torch.eye(20, dtype=DT), r"^theta has shape \(20, 20\): dimension 1 must be 24"),  # was accepted
    (lambda A: A, torch.zeros(23, 24, dtype=DT), "^theta is all zero"),
])
def test_problem_rejects_degenerate_operators(data, A, theta, match):
    with pytest.raises(ValueError, match=match):
        sa.SparseAnalysisProblem(A(data["A"]), theta)


def test_an_exactly_feasible_solution_passes_its_fidelity_certificate_whatever_its_rounding(data):
    # least squares in float32: residuals at rounding level, whose digits depend on the CPU; the
    # floor makes them ties, so every inference passes instead of being labelled by noise
    A, d = data["A"], data["d_test"]
    x_ls = (d.float() @ torch.linalg.pinv(A.float()).T).double()
    x_cal = (data["d_train"].float() @ torch.linalg.pinv(A.float()).T).double()
    assert float(sa.constraint_violation(x_ls, A, d).max()) < sa.FEASIBLE_RESIDUAL
    out = sa.evaluate(x_ls, data["x_test"], A, d, calibration=(x_cal, data["d_train"]))
    assert out["cert_fidelity_pass"] == 1.0
    # a residual above the floor is still certified against the calibration residuals
    worse = sa.evaluate(x_ls + 1e-3 * torch.randn_like(x_ls), data["x_test"], A, d, calibration=(x_cal, data["d_train"]))
    assert worse["cert_fidelity_fail"] == 1.0
