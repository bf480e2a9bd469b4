"""PyEPO's optModel on the DP oracle: PyEPO's regret and SPO+ run on it and agree with the suite's."""
import numpy as np
import pytest
import torch
from pyepo.data.dataset import optDataset
from pyepo.func import SPOPlus
from pyepo.metric import regret as pyepo_regret
from torch.utils.data import DataLoader

from l2obench.objectives.shortest_path import GridShortestPath
from l2obench.objectives.shortest_path_pyepo import PyEPOGridShortestPath


def _instances(k=3, n=10, p=5, seed=0):
    rng = np.random.default_rng(seed)
    feats = rng.standard_normal((n, p)).astype(np.float32)
    costs = rng.uniform(0.5, 2.0, (n, 2 * k * (k - 1))).astype(np.float32)
    return feats, costs


def test_pyepo_regret_equals_the_suites():
    k = 3
    model = PyEPOGridShortestPath(k)
    assert model.num_cost == 2 * k * (k - 1)
    feats, costs = _instances(k)
    data = optDataset(model, feats, costs)
    torch.manual_seed(0)
    predictor = torch.nn.Linear(5, model.num_cost)
    loader = DataLoader(data, batch_size=4, shuffle=False)
    theirs = pyepo_regret(predictor, model, loader)
    with torch.no_grad():
        pred = predictor(torch.from_numpy(feats))
    problem = GridShortestPath(k)
    ours = problem.regret(pred, torch.from_numpy(costs))
    assert ours > 0.01                                   # a random predictor is far from optimal
    assert ours == pytest.approx(theirs, abs=1e-6)
    per_row = pyepo_regret(predictor, model, loader, reduction="none")
    np.testing.assert_allclose(per_row, problem.regret(pred, torch.from_numpy(costs), reduction="none").numpy(),
                               atol=1e-5)
    # the cached labels are the oracle's
    X, obj = problem.solve(torch.from_numpy(costs))
    np.testing.assert_array_equal(data.sols.numpy(), X.numpy())
    np.testing.assert_allclose(data.objs.numpy()[:, 0], obj.numpy(), rtol=1e-6)


def test_pyepo_spo_plus_vanishes_at_the_true_costs():
    k = 3
    model = PyEPOGridShortestPath(k)
    _, costs = _instances(k, n=6, seed=1)
    c = torch.from_numpy(costs)
    X, obj = GridShortestPath(k).solve(c)
    spo = SPOPlus(model)
    assert abs(float(spo(c.clone().requires_grad_(), c, X, obj.float()[:, None]).detach())) < 1e-6
    noisy = (c + torch.from_numpy(np.random.default_rng(2).normal(0, 0.5, costs.shape).astype(np.float32)))
    assert float(spo(noisy.requires_grad_(), c, X, obj.float()[:, None]).detach()) >= 0.0


def test_set_obj_and_solve_checks():
    model = PyEPOGridShortestPath(3)
    with pytest.raises(ValueError, match="setObj must be called before solve"):
        model.solve()
    with pytest.raises(ValueError, match="c must have 12 entries"):
        model.setObj(np.ones(11))
    with pytest.raises(ValueError, match="c must have 12 entries"):
        model.setObj(torch.ones(1, 12))
    model.setObj(torch.arange(12, dtype=torch.float64))
    x, z = model.solve()
    assert x.shape == (12,) and isinstance(z, float)
    X, obj = GridShortestPath(3).solve(torch.arange(12, dtype=torch.float64)[None])
    np.testing.assert_array_equal(x, X[0].numpy())
    assert z == float(obj[0])


def test_the_wrapper_calls_its_problem_and_rebuilds_from_the_grid_side():
    problem = GridShortestPath(4)
    model = problem.pyepo_model()
    assert model._problem is problem  # no second problem (its SVD) per wrapper
    rebuilt = model.rebuild()  # PyEPO's worker pools rebuild from get_config
    assert rebuilt.grid == (4, 4) and rebuilt._problem is not problem and rebuilt._problem.k == 4
    with pytest.raises(ValueError, match="problem is a 4 x 4 grid, not 3 x 3"):
        PyEPOGridShortestPath(3, problem=problem)
