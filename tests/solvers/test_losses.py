"""Training losses: the three settings, their targets, the mean over layers."""
import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.lasso import LassoProblem, lasso_value
from l2obench.objectives.tv_deconvolution import TVProblem, tv_value
from l2obench.solvers.cache import WeightCache
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.classical.reference import certify
from l2obench.solvers.fit import fit
from l2obench.solvers.losses import Loss
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.lasso.registry import make_model
from l2obench.solvers.unrolled.tv.lpgd import LPGDTaut
from support import sparse_coding_split as _sparse_problem


FAST = TrainConfig(n_steps=150, batch_size=64, lr=1e-2, eval_every=25, patience=0, seed=0)


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """The reference solves of 'semi-supervised' go to the default cache: keep it per test."""
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path / "default"))
    return WeightCache(tmp_path / "weights")


@pytest.mark.parametrize("loss", ["semi-supervised", "unsupervised"])
def test_slista_label_free_losses_lower_the_test_objective(loss, own_cache):
    D, (X, _, lmbd), (X_te, _, lmbd_te) = _sparse_problem(seed=1)
    problem = LassoProblem(D)
    model = make_model("slista", n_layers=6)
    fit(model, problem, (X, lmbd), loss=Loss(loss), config=FAST, cache=own_cache)
    learned = lasso_value(D, X_te, model.solve(X_te, lmbd_te, 6), lmbd_te).mean()
    ista = lasso_value(D, X_te, ProximalGradient().solve(problem, X_te, lmbd_te, 6), lmbd_te).mean()
    assert learned < ista


def test_targets_of_the_three_settings(own_cache):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=32)
    problem = LassoProblem(D)
    assert Loss("supervised").targets(problem, (X, lmbd), Z) is Z
    assert Loss("unsupervised").targets(problem, (X, lmbd), Z) is None
    with pytest.raises(ValueError, match="supervised"):
        Loss("supervised").targets(problem, (X, lmbd))
    target = Loss("semi-supervised").targets(problem, (X, lmbd))  # the certified Lasso solution
    solution = certify(problem, X, target, lmbd)
    assert solution.certified(1e-10) and target.dtype == X.dtype
    assert not torch.allclose(target, Z, atol=1e-3)  # the solution of the problem, not the ground truth


def test_losses_are_batch_means_of_their_definition():
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=16)
    model = make_model("lista", n_layers=3).build(LassoProblem(D))
    with torch.no_grad():
        Z_hat = model(X, lmbd)
        layers = model(X, lmbd, all_layers=True)
        assert float(Loss("supervised")(model, X, lmbd, Z)) == pytest.approx(float(((Z_hat - Z) ** 2).sum(1).mean()))
        assert float(Loss("unsupervised")(model, X, lmbd)) == pytest.approx(
            float(lasso_value(D, X, Z_hat, lmbd).mean()), rel=1e-14)
        per_layer = [float(lasso_value(D, X, Zk, lmbd).mean()) for Zk in layers]
        assert float(Loss("unsupervised", all_layers=True)(model, X, lmbd)) == pytest.approx(
            sum(per_layer) / 3, rel=1e-14)
        assert float(Loss("unsupervised")(model, X, lmbd, n_layers=1)) == pytest.approx(per_layer[0], rel=1e-14)


def test_unsupervised_loss_is_the_problem_objective_for_tv():
    d = make_tv_synthetic(2, 16, seed=0)
    problem = TVProblem(d.H)
    lam = 0.1 * problem.lambda_max(d.X_test)
    model = LPGDTaut(n_layers=2).build(problem)
    with torch.no_grad():
        expected = tv_value(d.H, d.X_test, model(d.X_test, lam), lam).mean()
        assert float(Loss("unsupervised")(model, d.X_test, lam)) == pytest.approx(float(expected), rel=1e-14)


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="loss"):
        Loss("adversarial")
    with pytest.raises(ValueError, match="all_layers"):
        Loss("unsupervised", all_layers="yes")
    assert Loss("unsupervised", all_layers=True).get_params() == {"kind": "unsupervised", "all_layers": True}
    for kind in ("supervised", "semi-supervised"):  # would be ignored, yet enter the cache key
        with pytest.raises(ValueError, match="all_layers"):
            Loss(kind, all_layers=True)
