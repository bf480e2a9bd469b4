"""Hyper-parameters from ``__init__``: every argument is reported and enters the training key."""
import inspect

import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.tv_deconvolution import TVProblem
from l2obench.solvers import fit as fit_module
from l2obench.solvers.cache import WeightCache, fingerprint
from l2obench.solvers.fit import fit
from l2obench.solvers.losses import Loss
from l2obench.solvers.params import get_params, param_names
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.lasso.alista import ALISTA
from l2obench.solvers.unrolled.lasso.hyperlista import HyperLISTA
from l2obench.solvers.unrolled.lasso.lista import LISTA
from l2obench.solvers.unrolled.lasso.lista_cp import LISTACP
from l2obench.solvers.unrolled.lasso.slista import SLISTA
from l2obench.solvers.unrolled.lasso.tilista import TiLISTA
from l2obench.solvers.unrolled.tv.lpgd import LPGDTaut
from l2obench.solvers.unrolled.tv.lpgd_lista import LPGDLISTA
from l2obench.solvers.unrolled.tv.synthesis_lista import TVSynthesisLISTA

# every __init__ argument of every model, each at a value other than its default
NON_DEFAULT = {
    LISTA: {"n_layers": 3},
    LISTACP: {"n_layers": 3, "support_selection": True, "p_per_layer": 2.0, "p_max": 20.0, "init": "analytic",
              "threshold_lr_scale": 0.1},
    TiLISTA: {"n_layers": 3, "support_selection": True},
    ALISTA: {"n_layers": 3, "weight": "dictionary", "support_selection": False},
    HyperLISTA: {"n_layers": 3, "n_screen": 10, "n_keep": 4},
    SLISTA: {"n_layers": 3},
    LPGDTaut: {"n_layers": 3, "weight": "step"},
    LPGDLISTA: {"n_layers": 3, "n_inner": 4, "scalar_lr_scale": 0.1},
    TVSynthesisLISTA: {"n_layers": 3},
}
# one other value per argument (booleans: the other one): two models differing in it alone
OTHER = {"n_layers": 2, "p_per_layer": 3.0, "p_max": 30.0, "init": "ista",
         "threshold_lr_scale": 1.0, "weight": "analytic", "n_screen": 20, "n_keep": 8, "n_inner": 2,
         "scalar_lr_scale": 1.0}
OTHER_FOR = {(LPGDTaut, "weight"): "dense"}  # where a name's allowed values differ between models
TV = (LPGDTaut, LPGDLISTA, TVSynthesisLISTA)


@pytest.mark.parametrize("cls", NON_DEFAULT, ids=lambda c: c.__name__)
def test_get_params_returns_every_init_argument(cls):
    kwargs = NON_DEFAULT[cls]
    signature = inspect.signature(cls.__init__).parameters
    assert set(kwargs) == set(signature) - {"self"} == set(param_names(cls))
    assert all(signature[name].default != value for name, value in kwargs.items())
    model = cls(**kwargs)
    assert model.get_params() == kwargs == get_params(model)
    assert cls(**model.get_params()).get_params() == kwargs  # a model is rebuilt from its parameters
    assert set(cls().get_params()) == set(kwargs)


def _data(cls):
    if cls in TV:
        d = make_tv_synthetic(40, 1, seed=0)
        problem = TVProblem(d.H)
        return problem, (d.X_train, 0.1 * problem.lambda_max(d.X_train))
    g = torch.Generator().manual_seed(0)
    D = torch.randn(10, 20, generator=g, dtype=torch.float64)
    X = torch.randn(40, 10, generator=g, dtype=torch.float64)
    return LassoProblem(D), (X, 0.1 * (X @ D).abs().amax(dim=1))


CASES = [(cls, name) for cls, kwargs in NON_DEFAULT.items() for name in kwargs]


@pytest.mark.parametrize("same_initial_state", [False, True])
@pytest.mark.parametrize("cls, name", CASES, ids=[f"{c.__name__}-{n}" for c, n in CASES])
def test_models_differing_in_one_argument_get_different_cache_keys(cls, name, same_initial_state, tmp_path,
                                                                   monkeypatch):
    if same_initial_state:  # the key must tell them apart from their parameters alone
        monkeypatch.setattr(fit_module, "_state_fingerprint", lambda model: "same")
    problem, inputs = _data(cls)
    options = dict(loss=Loss("unsupervised"), config=TrainConfig(n_steps=1, eval_every=1), cache=WeightCache(tmp_path))
    kwargs = NON_DEFAULT[cls]
    key = fit(cls(**kwargs), problem, inputs, **options)["cache_key"]
    assert fit(cls(**kwargs), problem, inputs, **options)["cache_key"] == key
    value = kwargs[name]
    other_value = not value if isinstance(value, bool) else OTHER_FOR.get((cls, name), OTHER[name])
    other = fit(cls(**{**kwargs, name: other_value}), problem, inputs, **options)
    assert other["cache_key"] != key and not other["cache_hit"]


def test_values_become_json():
    class Operator:
        def __init__(self, scale, basis):
            self.scale, self.basis = scale, basis

    class Model:
        def __init__(self, op, depths, weights=None, name="m"):
            self.op, self.depths, self.weights, self.name = op, depths, weights, name

    basis = torch.eye(2)
    params = get_params(Model(Operator(2.0, basis), (1, 2), weights={"a": basis}))
    assert params == {"op": {"class": "test_values_become_json.<locals>.Operator",
                             "params": {"scale": 2.0, "basis": {"tensor": fingerprint(basis)}}},
                      "depths": [1, 2], "weights": {"a": {"tensor": fingerprint(basis)}}, "name": "m"}
