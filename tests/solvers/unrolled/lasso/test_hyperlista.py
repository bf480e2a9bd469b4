"""HyperLISTA: the screened grid search finds the exhaustive optimum."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers.losses import Loss
from l2obench.solvers.unrolled.lasso.registry import make_model


def test_hyperlista_screened_grid_search_finds_the_exhaustive_optimum():
    g = torch.Generator().manual_seed(7)
    D = torch.randn(20, 40, generator=g, dtype=torch.float64)
    D /= D.norm(dim=0)
    Z = torch.randn(400, 40, generator=g, dtype=torch.float64)
    Z *= torch.rand(Z.shape, generator=g, dtype=torch.float64) < 0.1
    data = (Z @ D.T, torch.full((400,), 0.1, dtype=torch.float64), Z)
    loss = Loss("supervised")
    problem = LassoProblem(D)
    screened = make_model("hyperlista", n_layers=6, n_screen=100, n_keep=16).build(problem)
    exhaustive = make_model("hyperlista", n_layers=6, n_screen=400).build(problem)  # no screening
    best_screened = screened.grid_search(loss, data)
    best = exhaustive.grid_search(loss, data)
    assert best_screened == pytest.approx(best, rel=1e-12)
    assert torch.equal(screened.c_, exhaustive.c_)
    assert best_screened == pytest.approx(float(loss(screened, *data)), rel=1e-12)


def test_constants_are_cached_state_but_not_learned_parameters():
    D = torch.randn(10, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    model = make_model("hyperlista", n_layers=3).build(LassoProblem(D))
    assert model.n_params() == 3 and list(model.parameters()) == []
    assert set(model.state_dict()) == {"c_"}


def test_a_grid_where_every_point_diverges_is_an_error():
    g = torch.Generator().manual_seed(1)
    D = torch.randn(10, 20, generator=g, dtype=torch.float64)
    X = torch.randn(30, 10, generator=g, dtype=torch.float64)
    model = make_model("hyperlista", n_layers=3).build(LassoProblem(D))

    def nan_loss(m, *batch):
        return torch.tensor(float("nan"))

    with pytest.raises(RuntimeError, match="diverged"):
        model.grid_search(nan_loss, (X, torch.full((30,), 0.1, dtype=torch.float64)))
