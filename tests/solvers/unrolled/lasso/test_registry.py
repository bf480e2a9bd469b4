"""The name → model registry of the unrolled Lasso models."""
import pytest

from l2obench.solvers.unrolled.lasso.registry import MODELS, make_model


@pytest.mark.parametrize("name", sorted(MODELS))
def test_depth_zero_is_rejected(name):
    with pytest.raises(ValueError, match="n_layers"):
        make_model(name, n_layers=0)


def test_unknown_model_is_rejected():
    with pytest.raises(ValueError, match="model"):
        make_model("lista-xyz")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_registry_defaults_reach_the_model(name):
    cls, defaults = MODELS[name]
    model = make_model(name, n_layers=3)
    assert type(model) is cls and model.n_layers == 3
    assert all(model.get_params()[key] == value for key, value in defaults.items())
