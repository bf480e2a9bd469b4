"""The implicit sparse-analysis model: the classical iteration untrained, IFT gradient, fit pipeline
(cached), hyper-parameters and input checks."""
import inspect
import math

import pytest
import torch

from l2obench.datasets.sparse_analysis import make_sparse_analysis
from l2obench.objectives.metrics import relative_error
from l2obench.objectives.prox import soft_threshold
from l2obench.objectives.sparse_analysis import SparseAnalysisProblem
from l2obench.solvers.cache import WeightCache
from l2obench.solvers.classical.linearized_admm import LinearizedADMM, LinearizedADMMOperator, analytic_transform
from l2obench.solvers.fit import fit
from l2obench.solvers.implicit.fixed_point import FixedPointLayer
from l2obench.solvers.implicit.sparse_analysis import ImplicitSparseAnalysis
from l2obench.solvers.losses import Loss
from l2obench.solvers.training import TrainConfig

DT = torch.float64
SMALL = dict(n=24, latent_dim=3, m=10, n_train=128, n_val=32, n_test=32, shift=2)
BACKWARDS = ("jfb", "ift", "unrolled")


@pytest.fixture(scope="module")
def data():
    return make_sparse_analysis(**SMALL, seed=0)


def test_untrained_model_is_the_classical_admm_iteration(data):
    A, d = data["A"], data["d_test"]
    alpha, beta, lam = 1.0, 0.45, 1.0
    theta = analytic_transform(24, "difference")
    theta = theta / torch.linalg.matrix_norm(theta, 2)
    x = d @ torch.linalg.pinv(A).T          # REFERENCES.md, "Sparse analysis", written out here
    p, nu, om = x @ theta.T, torch.zeros(32, 24, dtype=d.dtype), torch.zeros_like(d)
    for _ in range(6):
        p_new = soft_threshold(p + lam * (nu + alpha * (x @ theta.T - p)), lam)
        nu_new = nu + alpha * (x @ theta.T - p_new)
        om_new = om + alpha * (x @ A.T - d)
        x = x - beta * ((2 * nu_new - nu) @ theta + (2 * om_new - om) @ A)
        p, nu, om = p_new, nu_new, om_new
    for learn in (True, False):
        model = ImplicitSparseAnalysis(init="difference", learn_theta=learn, alpha=alpha, beta=beta, lam=lam)
        model.build(SparseAnalysisProblem(A))
        torch.testing.assert_close(model.solve(d, 6), x)


@pytest.mark.parametrize("backward", BACKWARDS)
@pytest.mark.parametrize("learn_theta", [False, True])
def test_classical_solver_and_implicit_model_share_one_operator(data, backward, learn_theta):
    # LinearizedADMM (the problem's fixed transform) and the model (Theta_0 = the same transform)
    # are one operator: bit-identical iterates, in the classical and in the implicit modes
    A, d = data["A"], data["d_test"]
    problem = SparseAnalysisProblem(A, analytic_transform(24, "difference"))
    classical = LinearizedADMM(alpha=1.0, beta=0.4, lam=0.8)
    model = ImplicitSparseAnalysis(init="difference", backward=backward, depth=7, tol=0.0, alpha=1.0, beta=0.4,
                                   lam=0.8, learn_theta=learn_theta).build(problem)
    assert isinstance(model.operator_, LinearizedADMMOperator)
    assert [name for name, _ in model.named_parameters()] == (["layer_.operator.analysis.theta"] if learn_theta else [])
    assert model.n_params() == (24 * 24 if learn_theta else 0)
    for n_iter in (0, 1, 7, 30):                                   # classical mode: n plain iterations
        assert torch.equal(model.solve(d, n_iter), classical.solve(problem, d, n_iter))
    assert torch.equal(model.solve(d), classical.solve(problem, d, 7))   # tol = 0: exactly depth
    # implicit mode: unrolled runs depth steps with a graph; JFB / IFT one more step at z*
    out = model(d)
    depth = 7 if backward == "unrolled" else 8
    assert torch.equal(out.detach(), classical.solve(problem, d, depth))
    with torch.no_grad():
        assert torch.equal(model(d), model.solve(d))


def test_admm_ift_gradient_matches_finite_differences():
    # A problem without exact recovery (dense x_true), so the gradient is not ~0; Anderson
    # makes the forward solve reach 1e-14 (plain ADMM is slow on such instances).
    g = torch.Generator().manual_seed(3)
    A = torch.randn(3, 6, generator=g, dtype=DT)
    A /= torch.linalg.matrix_norm(A, 2)
    x_true = torch.randn(3, 6, generator=g, dtype=DT)
    d = x_true @ A.T
    op = LinearizedADMMOperator(SparseAnalysisProblem(A),
                                analytic_transform(6, "difference") + 0.3 * torch.randn(6, 6, generator=g, dtype=DT),
                                beta=0.49)
    layer = FixedPointLayer(op, backward="ift", forward_solver="anderson", anderson_memory=10,
                            max_iter=3000, tol=1e-14, backward_tol=1e-14)
    layer.zero_grad()
    ((op.readout(layer(d)) - x_true) ** 2).sum().backward()
    grad = op.theta.grad.reshape(6, 6)
    assert layer.last_info_.residual < 1e-13 and layer.last_backward_info_.residual < 1e-13
    direction = torch.randn(6, 6, generator=g, dtype=DT)
    eps, vals = 1e-6, []
    for sign in (1, -1):
        with torch.no_grad():
            op.analysis.theta += sign * eps * direction
            z, info = layer.solve(d)
            op.analysis.theta -= sign * eps * direction
        assert info.residual < 1e-13
        # a converged solve is a bounded fixed point (the +eps solve once ran off to ||z|| ~ 1e14
        # with a relative residual of 8e-15: see tests/solvers/implicit/test_fixed_point.py)
        assert not info.diverged and float(z.norm(dim=1).max()) < 100
        vals.append(float(((op.readout(z) - x_true) ** 2).sum()))
    fd = (vals[0] - vals[1]) / (2 * eps)
    assert math.isclose(fd, float((grad * direction).sum()), rel_tol=1e-5)


def test_training_improves_on_least_squares_and_is_cached(data, tmp_path):
    problem = SparseAnalysisProblem(data["A"])
    config = TrainConfig(n_steps=40, batch_size=32, lr=1e-2, eval_every=10, patience=0, seed=0)
    loss = Loss("supervised")
    kwargs = dict(loss=loss, target=data["x_train"], val=((data["d_val"],), data["x_val"]), config=config,
                  measure_memory=True, cache=WeightCache(tmp_path))
    model = ImplicitSparseAnalysis(init="identity", backward="jfb", depth=30)
    with torch.no_grad():
        before = float(loss(model.build(problem), data["d_val"], data["x_val"]))
    meta = fit(model, problem, (data["d_train"],), **kwargs)
    assert not meta["cache_hit"] and meta["best_val"] < before and meta["peak_memory"] > 0
    assert not meta["diverged"] and meta["n_steps"] == 40 and meta["train_time"] > 0
    assert meta["n_params"] == 24 * 24 and meta["trained_depth"] == 30
    err = float(relative_error(model.solve(data["d_test"], 30), data["x_test"]).mean())
    x_ls = data["d_test"] @ torch.linalg.pinv(data["A"]).T
    assert err < float(relative_error(x_ls, data["x_test"]).mean())
    again = ImplicitSparseAnalysis(init="identity", backward="jfb", depth=30)
    assert fit(again, problem, (data["d_train"],), **kwargs)["cache_hit"]
    torch.testing.assert_close(again.operator_.theta, model.operator_.theta)
    other = ImplicitSparseAnalysis(init="identity", backward="unrolled", depth=30)
    assert not fit(other, problem, (data["d_train"],), **kwargs)["cache_hit"]


def test_get_params_lists_every_init_argument():
    names = [p for p in inspect.signature(ImplicitSparseAnalysis.__init__).parameters if p != "self"]
    default = ImplicitSparseAnalysis().get_params()
    assert list(default) == names
    changed = dict(init="difference", backward="ift", depth=7, tol=1e-6, alpha=0.9, beta=0.4, lam=0.5,
                   forward_solver="anderson", learn_theta=False)
    assert set(changed) == set(names)
    assert ImplicitSparseAnalysis(**changed).get_params() == changed
    for name, value in changed.items():      # each one alone changes the params (the cache key)
        assert default[name] != value and ImplicitSparseAnalysis(**{name: value}).get_params() != default
    # the step sizes reach the operator
    model = ImplicitSparseAnalysis(**changed).build(SparseAnalysisProblem(torch.randn(3, 6, dtype=DT) / 10))
    op = model.operator_
    assert (op.alpha, op.beta, op.lam) == (0.9, 0.4, 0.5) and model.layer_.max_iter == 7
    assert model.layer_.tol == 1e-6 and model.layer_.forward_solver == "anderson" and model.layer_.backward == "ift"


@pytest.mark.parametrize("kwargs, name", [
    (dict(init="dct"), "init"), (dict(init="difference "), "init"),
    (dict(backward="newton"), "backward"), (dict(backward=None), "backward"),
    (dict(depth=0), "depth"), (dict(depth=2.5), "depth"), (dict(depth=True), "depth"),
    (dict(tol=-1e-3), "tol"), (dict(tol=math.nan), "tol"),
    (dict(forward_solver="broyden"), "forward_solver"), (dict(learn_theta="yes"), "learn_theta"),
])
def test_bad_hyper_parameters_name_the_parameter(kwargs, name):
    # the error starts with the model's own parameter name (build_model said max_iter for depth
    # and kind for init)
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        ImplicitSparseAnalysis(**kwargs)


def test_bad_step_sizes_are_rejected_at_build(data):
    problem = SparseAnalysisProblem(data["A"])
    with pytest.raises(ValueError, match="alpha\\*beta"):
        ImplicitSparseAnalysis(beta=0.6).build(problem)
    with pytest.raises(ValueError, match="alpha\\*lam"):
        ImplicitSparseAnalysis(lam=2.0).build(problem)
    with pytest.raises(ValueError, match="^alpha"):
        ImplicitSparseAnalysis(alpha=-1.0).build(problem)


@pytest.mark.parametrize("backward", BACKWARDS)
def test_bad_measurements_are_rejected(data, backward):
    model = ImplicitSparseAnalysis(backward=backward, depth=5).build(SparseAnalysisProblem(data["A"]))
    d = data["d_test"].clone()
    d[0, 3] = math.nan
    bad = [(d, "NaN"), (data["d_test"][:0], "at least one"), (data["d_test"][:, :5], "d must have shape"),
           (data["d_test"][0], "d must have shape"), (data["d_test"][None], "d must have shape")]
    for d_bad, match in bad:
        with pytest.raises(ValueError, match=match):
            model(d_bad)
        with pytest.raises(ValueError, match=match):
            model.solve(d_bad)
        with pytest.raises(ValueError, match=match):
            model.solve(d_bad, 3)
    with pytest.raises(ValueError, match="n_iter"):
        model.solve(data["d_test"], -1)


def test_fit_rejects_bad_training_data(data, tmp_path):
    problem = SparseAnalysisProblem(data["A"])
    d = data["d_train"].clone()
    d[5, 0] = math.inf
    with pytest.raises(ValueError, match="finite"):
        fit(ImplicitSparseAnalysis(depth=5), problem, (d,), loss=Loss("supervised"), target=data["x_train"],
            cache=WeightCache(tmp_path))
    with pytest.raises(ValueError, match="supervised"):
        fit(ImplicitSparseAnalysis(depth=5), problem, (data["d_train"],), loss=Loss("supervised"),
            cache=WeightCache(tmp_path))
