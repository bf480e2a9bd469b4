"""Training unrolled Lasso models: learning helps on test data, cache, stage-wise, bad input."""
import pytest
import torch

from l2obench.objectives.lasso import nmse_db
from l2obench.solvers.cache import WeightCache
from l2obench.solvers.classical.ista import ISTA
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.fit import fit_unrolled
from l2obench.solvers.unrolled.registry import make_model


def _sparse_problem(n_train=512, n_test=256, m=20, n=40, p=0.1, seed=0):
    """Small compressed-sensing problem: Gaussian D with unit columns, Bernoulli-Gaussian codes."""
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(m, n, generator=g, dtype=torch.float64)
    D /= D.norm(dim=0)
    Z = torch.randn(n_train + n_test, n, generator=g, dtype=torch.float64)
    Z *= torch.rand(Z.shape, generator=g, dtype=torch.float64) < p
    X = Z @ D.T
    lmbd = 0.05 * (X @ D).abs().amax(dim=1).clamp_min(1e-3)
    return D, (X[:n_train], Z[:n_train], lmbd[:n_train]), (X[n_train:], Z[n_train:], lmbd[n_train:])


FAST = TrainConfig(n_steps=150, batch_size=64, lr=1e-2, eval_every=25, patience=0, seed=0)


@pytest.mark.parametrize("name", ["alista", "lista-cpss", "hyperlista"])
def test_learned_model_beats_ista_on_test_split(name, tmp_path):
    D, (X, Z, lmbd), (X_te, Z_te, lmbd_te) = _sparse_problem()
    model = make_model(name, n_layers=8)
    meta = fit_unrolled(model, D, X, lmbd, loss="supervised", Z_true=Z, config=FAST,
                        cache=WeightCache(tmp_path))
    assert meta["train_time"] > 0 and not meta["cache_hit"]
    learned = nmse_db(model.solve(X_te, lmbd_te, 8), Z_te)
    ista = nmse_db(ISTA().solve(D, X_te, lmbd_te, 8), Z_te)
    assert learned < ista - 3.0, (learned, ista)


@pytest.mark.parametrize("loss", ["semi-supervised", "unsupervised"])
def test_slista_label_free_losses_lower_the_test_objective(loss, tmp_path):
    from l2obench.objectives.lasso import lasso_value
    D, (X, _, lmbd), (X_te, _, lmbd_te) = _sparse_problem(seed=1)
    model = make_model("slista", n_layers=6)
    fit_unrolled(model, D, X, lmbd, loss=loss, config=FAST, cache=WeightCache(tmp_path))
    learned = lasso_value(D, X_te, model.solve(X_te, lmbd_te, 6), lmbd_te).mean()
    ista = lasso_value(D, X_te, ISTA().solve(D, X_te, lmbd_te, 6), lmbd_te).mean()
    assert learned < ista


def test_cache_round_trip_and_corrupt_file_recovery(tmp_path):
    D, (X, Z, lmbd), (X_te, _, lmbd_te) = _sparse_problem(n_train=256)
    cache = WeightCache(tmp_path)
    config = TrainConfig(n_steps=30, lr=1e-2, eval_every=10, seed=0)
    first = make_model("lista-cp", n_layers=3)
    meta = fit_unrolled(first, D, X, lmbd, Z_true=Z, config=config, cache=cache)
    assert not meta["cache_hit"]
    second = make_model("lista-cp", n_layers=3)
    hit = fit_unrolled(second, D, X, lmbd, Z_true=Z, config=config, cache=cache)
    assert hit["cache_hit"] and hit["cache_key"] == meta["cache_key"]
    assert torch.equal(first.solve(X_te, lmbd_te, 3), second.solve(X_te, lmbd_te, 3))
    # another budget is another key
    other = fit_unrolled(make_model("lista-cp", n_layers=3), D, X, lmbd, Z_true=Z,
                         config=TrainConfig(n_steps=31, lr=1e-2, eval_every=10), cache=cache)
    assert other["cache_key"] != meta["cache_key"]
    cache.path(meta["cache_key"]).write_bytes(b"not a torch file")
    with pytest.warns(RuntimeWarning, match="unreadable"):
        again = fit_unrolled(make_model("lista-cp", n_layers=3), D, X, lmbd, Z_true=Z, config=config,
                             cache=cache)
    assert not again["cache_hit"]
    assert fit_unrolled(make_model("lista-cp", n_layers=3), D, X, lmbd, Z_true=Z, config=config,
                        cache=cache)["cache_hit"]


def test_stagewise_training_trains_every_layer(tmp_path):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=256)
    model = make_model("lista", n_layers=3)
    config = TrainConfig(n_steps=10, lr=1e-3, eval_every=5, patience=0)
    meta = fit_unrolled(model, D, X, lmbd, Z_true=Z, config=config, stagewise=True,
                        cache=WeightCache(tmp_path))
    assert meta["n_steps"] == 3 * 2 * 10
    init = make_model("lista", n_layers=3).build(D)
    for k in range(3):
        assert not torch.equal(model.W1_[k], init.W1_[k])


def test_bad_training_configuration_names_the_parameter(tmp_path):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=64)
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=-1e-3)
    with pytest.raises(ValueError, match="loss"):
        fit_unrolled(make_model("lista", 2), D, X, lmbd, loss="adversarial", cache=WeightCache(tmp_path))
    with pytest.raises(ValueError, match="Z_train"):
        fit_unrolled(make_model("lista", 2), D, X, lmbd, loss="supervised", cache=WeightCache(tmp_path))
    with pytest.raises(ValueError, match="val_fraction"):
        fit_unrolled(make_model("lista", 2), D, X, lmbd, Z_true=Z, val_fraction=0.9,
                     cache=WeightCache(tmp_path))


def test_depth_continuation_seeds_the_first_layers_and_enters_the_cache_key(tmp_path):
    from l2obench.objectives.lasso import lasso_value
    D, (X, _, lmbd), (X_te, _, lmbd_te) = _sparse_problem(seed=2)
    cache = WeightCache(tmp_path)
    shallow = make_model("slista", n_layers=3)
    fit_unrolled(shallow, D, X, lmbd, loss="unsupervised", config=FAST, cache=cache)
    deep = make_model("slista", n_layers=5).build(D)
    deep.init_from(shallow)
    assert torch.equal(deep.log_step_[:3], shallow.log_step_) and not deep.log_step_[3:].any()
    # the untrained extra layers are ISTA steps, which do not increase F
    with torch.no_grad():
        f3 = lasso_value(D, X_te, shallow.solve(X_te, lmbd_te, 3), lmbd_te).mean()
        f5 = lasso_value(D, X_te, deep.solve(X_te, lmbd_te, 5), lmbd_te).mean()
    assert f5 <= f3
    cold = fit_unrolled(make_model("slista", n_layers=5), D, X, lmbd, loss="unsupervised", config=FAST,
                        cache=cache)
    warm = fit_unrolled(make_model("slista", n_layers=5), D, X, lmbd, loss="unsupervised", config=FAST,
                        cache=cache, init_from=shallow)
    assert warm["cache_key"] != cold["cache_key"] and not warm["cache_hit"]
    # per-layer tensors of LISTA-CP are copied whole; another class or a deeper source is refused
    cp3 = make_model("lista-cp", n_layers=3).build(D)
    with torch.no_grad():
        cp3.W_[2].mul_(2.0)
    cp4 = make_model("lista-cp", n_layers=4).build(D)
    cp4.init_from(cp3)
    assert torch.equal(cp4.W_[2], cp3.W_[2]) and not torch.equal(cp4.W_[3], cp3.W_[2])
    with pytest.raises(ValueError, match="init_from"):
        cp3.init_from(cp4)
    with pytest.raises(ValueError, match="init_from"):
        deep.init_from(cp3)


def test_parameter_groups_train_at_their_own_rate():
    from l2obench.solvers.training import train
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=128, seed=3)
    model = make_model("lista-cpss", n_layers=2, threshold_lr_scale=1e-6).build(D)
    theta0 = [float(t.detach()) for t in model.theta_]
    W0 = model.W_[0].detach().clone()
    config = TrainConfig(n_steps=50, lr=1e-3, eval_every=10, patience=0)
    loss = lambda m, X, lmbd, Z: ((m(X, lmbd) - Z) ** 2).sum(1).mean()  # noqa: E731
    train(model, loss, (X[:96], lmbd[:96], Z[:96]), (X[96:], lmbd[96:], Z[96:]), config,
          parameters=model.lr_groups(model.parameters()))
    assert max(abs(float(t.detach()) - t0) for t, t0 in zip(model.theta_, theta0)) < 1e-6
    assert not torch.allclose(model.W_[0], W0)
    assert model.hyper_params()["threshold_lr_scale"] == 1e-6
    with pytest.raises(ValueError, match="lr_scale"):
        train(model, loss, (X, lmbd, Z), (X, lmbd, Z), config, parameters=[{"params": [model.W_[0]], "lr_scale": -1}])


def test_benchmark_fit_with_depth_continuation(tmp_path):
    from l2obench.solvers.unrolled.lasso_benchmark import fit_for_benchmark
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=256, seed=4)
    objective_dict = {"D": D, "X_train": X, "Z_train": Z, "lmbd_train": lmbd}
    cache = WeightCache(tmp_path)
    model, info = fit_for_benchmark("slista", objective_dict, seed=0, n_layers=4, loss="unsupervised",
                                    n_steps=20, lr=1e-2, continuation=True, cache=cache)
    assert model.n_layers == 4 and info["trained_depth"] == 4 and info["train_time"] > 0
    assert len(list(tmp_path.glob("*.pt"))) == 4  # depths 1, 2, 3 then 4, each cached
    again, info2 = fit_for_benchmark("slista", objective_dict, seed=0, n_layers=4, loss="unsupervised",
                                     n_steps=20, lr=1e-2, continuation=True, cache=cache)
    assert torch.equal(again.log_step_, model.log_step_) and info2["train_time"] == info["train_time"]


def test_code_fingerprint_ignores_docs_and_sees_formulas(tmp_path, monkeypatch):
    import importlib

    from l2obench.solvers.cache import code_fingerprint
    monkeypatch.syspath_prepend(str(tmp_path))
    versions = {
        "a": 'def step(z):\n    """Half a step."""\n    return 0.5 * z\n',
        "b": '# why: stability\ndef step(z):\n    """Half a step, reworded."""\n    return 0.5 * z  # same\n',
        "c": 'def step(z):\n    """Half a step."""\n    return 0.25 * z\n',
    }
    prints = {}
    for tag, source in versions.items():
        (tmp_path / f"fp_model_{tag}.py").write_text(source)
        module = importlib.import_module(f"fp_model_{tag}")
        # the module name is part of the fingerprint: compare under one name
        module.__name__ = "fp_model"
        prints[tag] = code_fingerprint(module)
    assert prints["a"] == prints["b"] != prints["c"]
