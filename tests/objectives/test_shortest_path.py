"""GridShortestPath: PyEPO's arcs, the DP oracle against scipy's Dijkstra and HiGHS on the flow LP,
batching, dtypes and input checks."""
import numpy as np
import pytest
import scipy.sparse
import torch
from pyepo.model.utils import _get_grid_arcs
from scipy.optimize import linprog
from scipy.sparse.csgraph import dijkstra

from l2obench.objectives.shortest_path import GridShortestPath, check_grid, grid_arcs

DT = torch.float64


def _costs(k, B=6, seed=0, low=0.1, high=2.0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.uniform(low, high, (B, 2 * k * (k - 1))))


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6])
def test_grid_arcs_are_pyepos(k):
    arcs = grid_arcs(k)
    assert arcs == _get_grid_arcs((k, k))
    assert len(arcs) == 2 * k * (k - 1)
    problem = GridShortestPath(k)
    assert problem.arcs.tolist() == [list(a) for a in arcs]
    assert problem.n_costs == len(arcs) and problem.E.shape == (k * k, len(arcs))
    # node-arc incidence: +1 at the tail, -1 at the head; unit flow from node 0 to node k²-1
    assert bool((problem.E.sum(0) == 0).all()) and bool((problem.E.abs().sum(0) == 2).all())
    assert problem.b[0] == 1 and problem.b[-1] == -1 and int(problem.b.abs().sum()) == 2


@pytest.mark.parametrize("k", [2, 3, 5, 6])
def test_oracle_agrees_with_dijkstra_and_highs(k):
    problem = GridShortestPath(k)
    C = _costs(k, seed=k)
    X, obj = problem.solve(C)
    assert X.dtype == DT and obj.dtype == DT and X.shape == C.shape and obj.shape == (C.shape[0],)
    src, dst = problem.arcs[:, 0], problem.arcs[:, 1]
    E, b = problem.E.numpy(), problem.b.numpy()
    for c, x, z in zip(C.numpy(), X, obj):
        graph = scipy.sparse.csr_matrix((c, (src, dst)), shape=(k * k, k * k))
        assert float(z) == pytest.approx(dijkstra(graph, directed=True, indices=0)[-1], abs=1e-10)
        lp = linprog(c, A_eq=E, b_eq=b, bounds=(0, None), method="highs")
        assert lp.status == 0
        assert float(z) == pytest.approx(lp.fun, abs=1e-10)
        assert float(z) == pytest.approx(float(c @ lp.x), abs=1e-10)
        np.testing.assert_array_equal(x.numpy(), np.round(lp.x))              # unique optimum: the same path
    # X is a feasible 0/1 vertex (a path of 2k-2 arcs) and c^T X is the objective
    assert bool(((X == 0) | (X == 1)).all())
    torch.testing.assert_close(X @ problem.E.T, problem.b.expand(C.shape[0], -1), rtol=0, atol=0)
    assert bool((X.sum(1) == 2 * k - 2).all())
    torch.testing.assert_close((C * X).sum(1), obj, rtol=0, atol=1e-12)
    assert float(problem.infeasibility(X).max()) == 0.0


def test_oracle_is_exact_for_costs_of_any_sign():
    """The grid is a DAG: the flow LP is bounded whatever the signs, and the DP solves it."""
    k = 4
    problem = GridShortestPath(k)
    C = _costs(k, B=5, seed=3, low=-1.0, high=1.0)
    X, obj = problem.solve(C)
    for c, z in zip(C.numpy(), obj):
        lp = linprog(c, A_eq=problem.E.numpy(), b_eq=problem.b.numpy(), bounds=(0, None), method="highs")
        assert float(z) == pytest.approx(lp.fun, abs=1e-10)
    torch.testing.assert_close((C * X).sum(1), obj, rtol=0, atol=1e-12)


def test_batch_equals_row_by_row_and_float32():
    k = 5
    problem = GridShortestPath(k)
    C = _costs(k, B=9, seed=7)
    X, obj = problem.solve(C)
    for i in range(C.shape[0]):
        Xi, zi = problem.solve(C[i:i + 1])
        assert torch.equal(Xi[0], X[i]) and float(zi[0]) == float(obj[i])
    X32, obj32 = problem.solve(C.float())
    assert X32.dtype == torch.float32 and obj32.dtype == DT
    assert torch.equal(X32, problem.solve(C.float().double())[0].float())
    torch.testing.assert_close(obj32, (C.float().double() * X32.double()).sum(1), rtol=0, atol=1e-12)
    assert X32.device == C.device


def test_ties_give_one_valid_path():
    k = 4
    problem = GridShortestPath(k)
    X, obj = problem.solve(torch.ones(2, problem.n_costs, dtype=DT))
    torch.testing.assert_close(X @ problem.E.T, problem.b.expand(2, -1), rtol=0, atol=0)
    assert obj.tolist() == [2 * k - 2] * 2


def test_regret_on_the_grid():
    k = 3
    problem = GridShortestPath(k)
    C_true = _costs(k, B=8, seed=11)
    C_pred = C_true + torch.from_numpy(np.random.default_rng(12).normal(0, 0.5, C_true.shape))
    per_row = problem.regret(C_pred, C_true, reduction="none")
    assert bool((per_row >= -1e-12).all())
    _, z = problem.solve(C_true)
    assert problem.regret(C_pred, C_true) == pytest.approx(float(per_row.sum() / z.abs().sum()), rel=1e-12)
    # 0 up to rounding: c·x sums in another order than the DP
    assert abs(problem.regret(C_true, C_true)) < 1e-15 and problem.decision_accuracy(C_true, C_true) == 1.0


def test_bad_inputs_raise_naming_the_parameter():
    problem = GridShortestPath(3)
    with pytest.raises(ValueError, match="costs must have 12 columns"):
        problem.solve(torch.ones(2, 13, dtype=DT))
    with pytest.raises(ValueError, match="costs must have 2 dimensions"):
        problem.solve(torch.ones(12, dtype=DT))
    with pytest.raises(ValueError, match="costs contains NaN"):
        problem.solve(torch.full((1, 12), float("inf"), dtype=DT))
    for k in (1, 0, -3, 2.5, "3", True):
        with pytest.raises(ValueError, match="grid"):
            GridShortestPath(k)
    with pytest.raises(ValueError, match="grid"):
        check_grid(201)
    assert check_grid(np.int64(4)) == 4
    for n_features in (0, 1.5):
        with pytest.raises(ValueError, match="n_features"):
            GridShortestPath(3, n_features=n_features)
    assert GridShortestPath(3, n_features=5).n_features == 5 and GridShortestPath(3).n_features is None


def test_pyepo_model_wraps_the_same_oracle():
    problem = GridShortestPath(3)
    model = problem.pyepo_model()
    c = _costs(3, B=1, seed=5)
    model.setObj(c[0].numpy())
    x, z = model.solve()
    X, obj = problem.solve(c)
    np.testing.assert_array_equal(x, X[0].numpy())
    assert z == float(obj[0])
