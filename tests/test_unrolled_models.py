"""Unrolled Lasso models: analytic weights reproduce ISTA, gradients, bad configurations."""
import pytest
import torch

from l2obench.solvers.classical.ista import ISTA
from l2obench.solvers.unrolled.alista import analytic_weight
from l2obench.solvers.unrolled.base import shrink_ss
from l2obench.solvers.unrolled.registry import MODELS, make_model


def _problem(m=20, n=40, batch=8, seed=0, reg=0.1):
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(m, n, generator=g, dtype=torch.float64)
    D /= D.norm(dim=0)
    X = torch.randn(batch, m, generator=g, dtype=torch.float64)
    return D, X, reg * (X @ D).abs().amax(dim=1)


ISTA_EQUIVALENT = [("lista", {}), ("lista-cp", {}), ("tilista", {}),
                   ("alista", {"weight": "dictionary", "support_selection": False}), ("slista", {})]


@pytest.mark.parametrize("name, kwargs", ISTA_EQUIVALENT)
def test_analytic_weights_reproduce_ista_iterates(name, kwargs):
    D, X, lmbd = _problem()
    model = make_model(name, n_layers=6, **kwargs).build(D)
    with torch.no_grad():
        for k in range(1, 7):
            expected = ISTA(accelerated=False).solve(D, X, lmbd, k)
            assert torch.allclose(model(X, lmbd, n_layers=k), expected, atol=1e-6, rtol=0)
    # past the trained depth the model continues with classical ISTA
    assert torch.allclose(model.solve(X, lmbd, 15), ISTA().solve(D, X, lmbd, 15), atol=1e-6, rtol=0)


def test_slista_with_steps_one_over_L_is_ista_and_learned_steps_change_it():
    D, X, lmbd = _problem(seed=3)
    model = make_model("slista", n_layers=4).build(D)
    assert torch.allclose(model.solve(X, lmbd, 4), ISTA().solve(D, X, lmbd, 4), atol=1e-6, rtol=0)
    with torch.no_grad():
        model.log_step_.add_(0.4)
    assert not torch.allclose(model.solve(X, lmbd, 4), ISTA().solve(D, X, lmbd, 4), atol=1e-6)


def test_alista_analytic_weight_solves_its_constrained_problem():
    D, _, _ = _problem(m=15, n=30, seed=1)
    W = analytic_weight(D)
    assert torch.allclose((W * D).sum(0), torch.ones(30, dtype=D.dtype))
    # optimal: any feasible perturbation keeps the constraint and does not lower ||W^T D||_F
    g = torch.Generator().manual_seed(2)
    for _ in range(5):
        V = torch.randn(W.shape, generator=g, dtype=D.dtype)
        V -= D * (V * D).sum(0) / (D * D).sum(0)  # v_i^T d_i = 0
        assert torch.linalg.matrix_norm((W + 1e-2 * V).T @ D) >= torch.linalg.matrix_norm(W.T @ D)


def test_support_selection_keeps_the_largest_entries():
    U = torch.tensor([[3.0, -2.0, 0.5, 0.1], [0.2, 0.3, -4.0, 1.0]], dtype=torch.float64)
    out = shrink_ss(U, 0.4, 0.25)  # one entry per row bypasses the threshold
    expected = torch.tensor([[3.0, -1.6, 0.1, 0.0], [0.0, 0.0, -4.0, 0.6]], dtype=torch.float64)
    assert torch.allclose(out, expected)


@pytest.mark.parametrize("name", ["lista", "lista-cpss", "tilista", "alista", "slista"])
def test_gradcheck_tiny_float64_model(name):
    D, X, lmbd = _problem(m=4, n=6, batch=3, seed=5, reg=0.05)
    model = make_model(name, n_layers=2).build(D)
    names = [n for n, _ in model.named_parameters()]
    inputs = tuple(p.detach().clone().requires_grad_(True) for p in model.parameters())

    def forward(*values):
        return torch.func.functional_call(model, dict(zip(names, values)), (X, lmbd))

    assert torch.autograd.gradcheck(forward, inputs, eps=1e-7, atol=1e-5)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_depth_zero_is_rejected(name):
    with pytest.raises(ValueError, match="n_layers"):
        make_model(name, n_layers=0)


def test_unknown_model_and_bad_options_are_rejected():
    with pytest.raises(ValueError, match="model"):
        make_model("lista-xyz")
    with pytest.raises(ValueError, match="weight"):
        make_model("alista", weight="learned")
    with pytest.raises(ValueError, match="n_layers"):
        make_model("lista", n_layers=2).build(_problem()[0])(_problem()[1], 0.1, n_layers=3)


@pytest.mark.parametrize("support_selection", [False, True])
def test_lista_cp_analytic_init_is_the_untrained_alista(support_selection):
    D, X, lmbd = _problem(seed=4)
    cp = make_model("lista-cp", n_layers=5, support_selection=support_selection, init="analytic").build(D)
    alista = make_model("alista", n_layers=5, support_selection=support_selection).build(D)
    with torch.no_grad():
        for k in range(1, 6):
            assert torch.allclose(cp(X, lmbd, n_layers=k), alista(X, lmbd, n_layers=k), atol=1e-10, rtol=0)
    assert cp.hyper_params()["init"] == "analytic" and make_model("lista-cp").hyper_params()["init"] == "ista"
    with pytest.raises(ValueError, match="init"):
        make_model("lista-cp", init="random")


def test_hyperlista_screened_grid_search_finds_the_exhaustive_optimum():
    from l2obench.solvers.unrolled.losses import make_loss
    g = torch.Generator().manual_seed(7)
    D = torch.randn(20, 40, generator=g, dtype=torch.float64)
    D /= D.norm(dim=0)
    Z = torch.randn(400, 40, generator=g, dtype=torch.float64)
    Z *= torch.rand(Z.shape, generator=g, dtype=torch.float64) < 0.1
    data = (Z @ D.T, torch.full((400,), 0.1, dtype=torch.float64), Z)
    loss = make_loss("supervised")
    screened = make_model("hyperlista", n_layers=6, n_screen=100, n_keep=16).build(D)
    exhaustive = make_model("hyperlista", n_layers=6, n_screen=400).build(D)  # no screening
    best_screened = screened.grid_search(loss, data)
    best = exhaustive.grid_search(loss, data)
    assert best_screened == pytest.approx(best, rel=1e-12)
    assert torch.equal(screened.c_, exhaustive.c_)
    assert best_screened == pytest.approx(float(loss(screened, *data)), rel=1e-12)
