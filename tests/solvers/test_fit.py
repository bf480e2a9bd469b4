"""The one fit pipeline: learning helps on test data, stage-wise, depth continuation, bad input,
divergence, for the Lasso and TV models."""
import dataclasses

import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.lasso import LassoProblem, lasso_value
from l2obench.objectives.metrics import nmse_db
from l2obench.objectives.tv_deconvolution import TVProblem, lambda_max, tv_value
from l2obench.solvers import fit as fit_module
from l2obench.solvers.cache import WeightCache
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers import training
from l2obench.solvers.fit import fit, fit_with_continuation, split_train_val
from l2obench.solvers.losses import Loss
from l2obench.solvers.threads import torch_threads, train_threads
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.lasso.registry import make_model
from l2obench.solvers.unrolled.tv.lpgd import LPGDTaut
from l2obench.solvers.unrolled.tv.lpgd_lista import LPGDLISTA
from l2obench.solvers.unrolled.tv.synthesis_lista import TVSynthesisLISTA


def _sparse_problem(n_train=512, n_test=256, m=20, n=40, p=0.1, seed=0, dtype=torch.float64):
    """Small compressed-sensing problem: Gaussian D with unit columns, Bernoulli-Gaussian codes."""
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(m, n, generator=g, dtype=dtype)
    D /= D.norm(dim=0)
    Z = torch.randn(n_train + n_test, n, generator=g, dtype=dtype)
    Z *= torch.rand(Z.shape, generator=g, dtype=dtype) < p
    X = Z @ D.T
    lmbd = 0.05 * (X @ D).abs().amax(dim=1).clamp_min(1e-3)
    return D, (X[:n_train], Z[:n_train], lmbd[:n_train]), (X[n_train:], Z[n_train:], lmbd[n_train:])


FAST = TrainConfig(n_steps=150, batch_size=64, lr=1e-2, eval_every=25, patience=0, seed=0)


@pytest.mark.parametrize("name", ["alista", "lista-cpss", "hyperlista"])
def test_learned_model_beats_ista_on_test_split(name, tmp_path):
    D, (X, Z, lmbd), (X_te, Z_te, lmbd_te) = _sparse_problem()
    problem = LassoProblem(D)
    model = make_model(name, n_layers=8)
    meta = fit(model, problem, (X, lmbd), loss=Loss("supervised"), target=Z, config=FAST, cache=WeightCache(tmp_path))
    assert meta["train_time"] > 0 and not meta["cache_hit"]
    assert meta["trained_depth"] == 8 and meta["n_params"] == model.n_params() and not meta["diverged"]
    learned = nmse_db(model.solve(X_te, lmbd_te, 8), Z_te)
    ista = nmse_db(ProximalGradient().solve(problem, X_te, lmbd_te, 8), Z_te)
    assert learned < ista - 3.0, (learned, ista)


def test_stagewise_training_trains_every_layer(tmp_path):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=256)
    model = make_model("lista", n_layers=3)
    config = TrainConfig(n_steps=10, lr=1e-3, eval_every=5, patience=0)
    meta = fit(model, LassoProblem(D), (X, lmbd), loss=Loss("supervised"), target=Z, config=config, stagewise=True,
               cache=WeightCache(tmp_path))
    assert meta["n_steps"] == 3 * 2 * 10
    init = make_model("lista", n_layers=3).build(LassoProblem(D))
    for k in range(3):
        assert not torch.equal(model.W1_[k], init.W1_[k])



def _todays_stagewise(model, problem, X, lmbd, Z, config):
    """The stage-wise protocol ``stagewise=True`` ran before 'chen' existed (issue 15), written out:
    per layer k, the new layer at ``config.lr``, then all layers at a fifth of it."""
    model.build(problem)
    idx_tr, idx_val = split_train_val(X.shape[0], 0.1, config.seed)
    tr, val = tuple(t[idx_tr] for t in (X, lmbd, Z)), tuple(t[idx_val] for t in (X, lmbd, Z))
    loss, fine = Loss("supervised"), dataclasses.replace(config, lr=config.lr * 0.2)
    with torch_threads(train_threads()):
        for k in range(1, model.n_layers + 1):
            fit_module._warm_start(model, k - 1)

            def loss_k(m, *batch, _k=k):
                return loss(m, *batch, n_layers=_k)
            training.train(model, loss_k, tr, val, config, parameters=model.lr_groups(model.layer_parameters(k - 1)))
            training.train(model, loss_k, tr, val, fine, parameters=model.lr_groups(model.parameters()))
    return model


@pytest.mark.parametrize("name, lr", [("lista", 1e-3), ("lista-cpss", 0.3)])  # 0.3: phases stop early
def test_stagewise_true_trains_the_same_weights_as_before_chen(tmp_path, name, lr):
    """Regression baselines depend on ``stagewise=True``: adding 'chen' changed none of its weights
    (checked bit for bit against the code before the change, too)."""
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=256)
    config = TrainConfig(n_steps=20, lr=lr, eval_every=2, patience=2)
    kwargs = {"threshold_lr_scale": 10.0} if name == "lista-cpss" else {}
    model = make_model(name, n_layers=3, **kwargs)
    meta = fit(model, LassoProblem(D), (X, lmbd), loss=Loss("supervised"), target=Z, config=config, stagewise=True,
               cache=WeightCache(tmp_path))
    reference = _todays_stagewise(make_model(name, n_layers=3, **kwargs), LassoProblem(D), X, lmbd, Z, config)
    assert meta["n_steps"] <= 3 * 2 * 20 and (meta["stopped_early"] or lr < 0.1)
    for (key, value), (_, expected) in zip(model.state_dict().items(), reference.state_dict().items()):
        assert torch.equal(value, expected), key


def test_chen_stagewise_runs_every_phase_at_its_rates_from_the_previous_best_state(tmp_path, monkeypatch):
    """'chen': per layer k, the new layer at lr, then all layers at lr/5 and lr/50 (the reference
    code's 5e-4 -> 1e-4 -> 1e-5), the thresholds at threshold_lr_scale times each; every phase
    starts from the best validation state of the phase before."""
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=256)
    calls, adam_rates = [], []
    real_train, real_make_step = fit_module.train, training.make_step

    def spy_train(model, loss_fn, tr, val, config, *, parameters, **kwargs):
        start = {n: p.detach().clone() for n, p in model.named_parameters()}
        history = real_train(model, loss_fn, tr, val, config, parameters=parameters, **kwargs)
        best = training._evaluate(model, loss_fn, val, config.batch_size * 16)  # the state it left
        calls.append(dict(lr=config.lr, trained={id(p) for g in parameters for p in g["params"]}, start=start,
                          end={n: p.detach().clone() for n, p in model.named_parameters()},
                          history=history, left=best))
        return history

    def spy_make_step(groups, config):
        adam_rates.append([g["lr"] for g in groups])
        return real_make_step(groups, config)

    monkeypatch.setattr(fit_module, "train", spy_train)
    monkeypatch.setattr(training, "make_step", spy_make_step)
    lr, T = 1e-2, 3
    model = make_model("lista-cpss", n_layers=T, threshold_lr_scale=10.0)
    config = TrainConfig(n_steps=8, lr=lr, eval_every=2, patience=2)
    meta = fit(model, LassoProblem(D), (X, lmbd), loss=Loss("supervised"), target=Z, config=config,
               stagewise="chen", cache=WeightCache(tmp_path))
    assert len(calls) == 3 * T
    assert [c["lr"] for c in calls] == pytest.approx([lr, lr / 5, lr / 50] * T, rel=1e-12)
    assert [rate for rates in adam_rates for rate in rates] == pytest.approx(
        [rate for r in [lr, lr / 5, lr / 50] * T for rate in (r, 10 * r)], rel=1e-12)
    assert all(len(rates) == 2 for rates in adam_rates)  # weights, thresholds
    names = dict((id(p), n) for n, p in model.named_parameters())
    for k in range(T):
        new, after = calls[3 * k], calls[3 * k + 1:3 * k + 3]
        assert new["trained"] == {id(p) for p in model.layer_parameters(k)}
        assert all(c["trained"] == set(names) for c in after)
        for before, c in zip(calls[3 * k:3 * k + 2], after):  # later phases start where the one before ended
            assert all(torch.equal(c["start"][n], before["end"][n]) for n in names.values())
    for c in calls:  # ... which is its best validated state, not its last step
        assert c["left"] == pytest.approx(c["history"].best_val, rel=1e-12)
        assert c["history"].n_steps_done >= 1
    assert any(c["history"].best_step < c["history"].n_steps_done for c in calls)  # a phase restored an earlier state
    assert meta["n_steps"] == sum(c["history"].n_steps_done for c in calls)
    init = make_model("lista-cpss", n_layers=T).build(LassoProblem(D))
    assert all(not torch.equal(model.W_[k], init.W_[k]) for k in range(T))


def test_the_stagewise_protocol_enters_the_cache_key_and_a_bad_one_is_refused(tmp_path, monkeypatch):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=128)
    config = TrainConfig(n_steps=2, lr=1e-3, eval_every=1, patience=0)
    cache = WeightCache(tmp_path)

    def fitted(stagewise):
        return fit(make_model("lista-cp", n_layers=2), LassoProblem(D), (X, lmbd), loss=Loss("supervised"),
                   target=Z, config=config, stagewise=stagewise, cache=cache)
    keys = {stagewise: fitted(stagewise)["cache_key"] for stagewise in (False, True, "chen")}
    assert len(set(keys.values())) == 3
    again = fitted("chen")
    assert again["cache_hit"] and again["cache_key"] == keys["chen"]
    monkeypatch.setattr(fit_module, "train", lambda *a, **k: pytest.fail("trained with a bad stagewise"))
    n_files = len(list(tmp_path.iterdir()))
    for bad in ("chenn", "True", 2, None):
        with pytest.raises(ValueError, match=r"stagewise=.* is not allowed; choose one of \['False', 'True', 'chen'\]"):
            fitted(bad)
    assert len(list(tmp_path.iterdir())) == n_files

def test_bad_training_configuration_names_the_parameter(tmp_path):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=64)
    problem = LassoProblem(D)
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=-1e-3)
    with pytest.raises(ValueError, match="loss"):
        fit(make_model("lista", 2), problem, (X, lmbd), loss=Loss("adversarial"), cache=WeightCache(tmp_path))
    with pytest.raises(ValueError, match="loss"):  # a name, as fit_unrolled took, is not a Loss
        fit(make_model("lista", 2), problem, (X, lmbd), loss="supervised", target=Z, cache=WeightCache(tmp_path))
    # the old message named the objective's key Z_train; fit's parameter is ``target``
    with pytest.raises(ValueError, match="target"):
        fit(make_model("lista", 2), problem, (X, lmbd), loss=Loss("supervised"), cache=WeightCache(tmp_path))
    with pytest.raises(ValueError, match="val_fraction"):
        fit(make_model("lista", 2), problem, (X, lmbd), loss=Loss("supervised"), target=Z, val_fraction=0.9,
            cache=WeightCache(tmp_path))
    with pytest.raises(ValueError, match="config"):
        fit(make_model("lista", 2), problem, (X, lmbd), loss=Loss("supervised"), target=Z, config={"lr": 1e-3},
            cache=WeightCache(tmp_path))
    assert not list(tmp_path.iterdir())


def test_depth_continuation_seeds_the_first_layers_and_enters_the_cache_key(tmp_path):
    D, (X, _, lmbd), (X_te, _, lmbd_te) = _sparse_problem(seed=2)
    problem = LassoProblem(D)
    cache = WeightCache(tmp_path)
    shallow = make_model("slista", n_layers=3)
    fit(shallow, problem, (X, lmbd), loss=Loss("unsupervised"), config=FAST, cache=cache)
    deep = make_model("slista", n_layers=5).build(problem)
    deep.init_from(shallow)
    assert torch.equal(deep.log_step_[:3], shallow.log_step_) and not deep.log_step_[3:].any()
    # the untrained extra layers are ISTA steps, which do not increase F
    with torch.no_grad():
        f3 = lasso_value(D, X_te, shallow.solve(X_te, lmbd_te, 3), lmbd_te).mean()
        f5 = lasso_value(D, X_te, deep.solve(X_te, lmbd_te, 5), lmbd_te).mean()
    assert f5 <= f3
    cold = fit(make_model("slista", n_layers=5), problem, (X, lmbd), loss=Loss("unsupervised"), config=FAST,
               cache=cache)
    warm = fit(make_model("slista", n_layers=5), problem, (X, lmbd), loss=Loss("unsupervised"), config=FAST,
               cache=cache, init_from=shallow)
    assert warm["cache_key"] != cold["cache_key"] and not warm["cache_hit"]
    # the per-layer tensors of LISTA-CP and the refusals of init_from: tests/solvers/unrolled/test_base.py


def test_fit_with_continuation_trains_every_depth_and_is_cached(tmp_path):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=256, seed=4)
    cache = WeightCache(tmp_path)
    # what the benchmark adapters do (fit_for_benchmark before): depths 1, 2, 3 then 4
    options = dict(loss=Loss("unsupervised"), target=Z, config=TrainConfig.for_budget(20, lr=1e-2, seed=0),
                   val_fraction=0.1, cache=cache)
    model, info = fit_with_continuation(lambda d: make_model("slista", n_layers=d), [1, 2, 3, 4], LassoProblem(D),
                                        (X, lmbd), **options)
    assert model.n_layers == 4 and info["trained_depth"] == 4 and info["train_time"] > 0
    assert len(list(tmp_path.glob("*.pt"))) == 4  # depths 1, 2, 3 then 4, each cached
    again, info2 = fit_with_continuation(lambda d: make_model("slista", n_layers=d), [1, 2, 3, 4], LassoProblem(D),
                                         (X, lmbd), **options)
    assert torch.equal(again.log_step_, model.log_step_) and info2["train_time"] == info["train_time"]
    assert info2["cache_hit"] and info2["n_steps"] == info["n_steps"] > 0


@pytest.fixture(scope="module")
def tv_data():
    d = make_tv_synthetic(300, 50, seed=0)
    return d.H, d.X_train, 0.1 * lambda_max(d.H, d.X_train), d.X_test, 0.1 * lambda_max(d.H, d.X_test)


@pytest.mark.parametrize("cls", [LPGDTaut, lambda n_layers: LPGDLISTA(n_layers, n_inner=5), TVSynthesisLISTA])
def test_training_lowers_the_tv_objective_and_is_cached(tv_data, cls, tmp_path):
    H, X_tr, lam_tr, X, lam = tv_data
    problem = TVProblem(H)
    config = TrainConfig(n_steps=40, batch_size=32, lr=2e-3, eval_every=20, patience=0, seed=0)
    loss = Loss("unsupervised", all_layers=True)  # the paper's loss, fit_tv_model's default
    base = cls(n_layers=3).build(problem)
    before = float(tv_value(H, X, base.solve(X, lam, 3), lam).mean())
    model = cls(n_layers=3)
    info = fit(model, problem, (X_tr, lam_tr), loss=loss, config=config, cache=WeightCache(tmp_path))
    after = float(tv_value(H, X, model.solve(X, lam, 3), lam).mean())
    assert after < before and not info["cache_hit"] and info["trained_depth"] == 3 and info["n_params"] > 0
    again = cls(n_layers=3)
    assert fit(again, problem, (X_tr, lam_tr), loss=loss, config=config, cache=WeightCache(tmp_path))["cache_hit"]
    assert torch.equal(again.solve(X, lam, 3), model.solve(X, lam, 3))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("stagewise", [False, True])
def test_diverged_training_is_reported_and_never_cached(tmp_path, dtype, stagewise):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=128, dtype=dtype)
    config = TrainConfig(n_steps=20, lr=1e6, eval_every=5, patience=0)
    name = "slista" if dtype == torch.float64 else "lista"  # exp(log-step) overflows; float32 products overflow
    for _ in range(2):  # nothing stored: the second run trains again
        model = make_model(name, n_layers=3)
        meta = fit(model, LassoProblem(D), (X, lmbd), loss=Loss("supervised"), target=Z, config=config,
                   stagewise=stagewise, cache=WeightCache(tmp_path))
        assert meta["diverged"] is True and not meta["cache_hit"]
        assert not list(tmp_path.iterdir()), "a diverged training left a cache file"
        # the best (finite) state is restored
        assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


def test_a_loss_blowing_up_without_overflow_counts_as_diverged(tmp_path):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=128)
    meta = fit(make_model("lista", n_layers=3), LassoProblem(D), (X, lmbd), loss=Loss("supervised"), target=Z,
               config=TrainConfig(n_steps=20, lr=1e6, eval_every=5, patience=0), cache=WeightCache(tmp_path))
    assert meta["diverged"] and not list(tmp_path.iterdir())


@pytest.mark.parametrize("where", ["X", "lmbd", "target"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_training_data_is_rejected_before_training(tmp_path, monkeypatch, where, bad):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=64)
    data = {"X": X.clone(), "lmbd": lmbd.clone(), "target": Z.clone()}
    data[where].view(-1)[3] = bad

    def no_training(*args, **kwargs):
        raise AssertionError("trained on non-finite data")

    monkeypatch.setattr(fit_module, "train", no_training)
    with pytest.raises(ValueError, match="training data: .*not finite"):
        fit(make_model("lista", n_layers=2), LassoProblem(D), (data["X"], data["lmbd"]), loss=Loss("supervised"),
            target=data["target"], config=TrainConfig(n_steps=5), cache=WeightCache(tmp_path))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("where", ["X", "lmbd", "target"])
def test_a_non_finite_validation_split_is_rejected_before_training(tmp_path, monkeypatch, where):
    D, (X, Z, lmbd), (X_te, Z_te, lmbd_te) = _sparse_problem(n_train=64)
    val = {"X": X_te[:16].clone(), "lmbd": lmbd_te[:16].clone(), "target": Z_te[:16].clone()}
    val[where][2] = float("nan")
    monkeypatch.setattr(fit_module, "train", lambda *a, **k: pytest.fail("trained with a non-finite validation split"))
    with pytest.raises(ValueError, match="validation data: .*not finite"):
        fit(make_model("lista", n_layers=2), LassoProblem(D), (X, lmbd), loss=Loss("supervised"), target=Z,
            val=((val["X"], val["lmbd"]), val["target"]), config=TrainConfig(n_steps=5), cache=WeightCache(tmp_path))


def test_a_scalar_penalty_is_named_as_not_a_tensor(tmp_path):
    """fit_unrolled took a float λ; fit takes one λ per sample and says so."""
    D, (X, Z, _), _ = _sparse_problem(n_train=64)
    with pytest.raises(ValueError, match="input 1 must be a tensor"):
        fit(make_model("lista", n_layers=2), LassoProblem(D), (X, 0.1), loss=Loss("supervised"), target=Z,
            cache=WeightCache(tmp_path))


def test_a_given_validation_split_is_used_as_is(tmp_path):
    D, (X, Z, lmbd), (X_te, Z_te, lmbd_te) = _sparse_problem(n_train=128)
    problem, config = LassoProblem(D), TrainConfig(n_steps=10, lr=1e-2, eval_every=5, patience=0)
    held_out = fit(make_model("slista", n_layers=2), problem, (X, lmbd), loss=Loss("supervised"), target=Z,
                   config=config, cache=WeightCache(tmp_path))
    given = fit(make_model("slista", n_layers=2), problem, (X, lmbd), loss=Loss("supervised"), target=Z,
                config=config, val=((X_te[:32], lmbd_te[:32]), Z_te[:32]), cache=WeightCache(tmp_path))
    assert given["cache_key"] != held_out["cache_key"]
    model = make_model("slista", n_layers=2)
    fit(model, problem, (X, lmbd), loss=Loss("supervised"), target=Z, config=config,
        val=((X_te[:32], lmbd_te[:32]), Z_te[:32]), cache=WeightCache(tmp_path))
    with torch.no_grad():
        val_loss = float(Loss("supervised")(model, X_te[:32], lmbd_te[:32], Z_te[:32]))
    assert given["best_val"] == pytest.approx(val_loss, rel=1e-12)


def test_a_model_drawing_its_weights_draws_them_from_the_training_seed(tmp_path):
    """A cost network's initial weights come from ``config.seed`` (the same seed, the same trained
    model and the same cache entry), and fitting leaves torch's global generator alone."""
    from l2obench.datasets.shortest_path import make_shortest_path
    from l2obench.objectives.shortest_path import GridShortestPath
    from l2obench.solvers.decision.cost_model import CostNetwork
    from l2obench.solvers.decision.losses import DecisionLoss

    data = make_shortest_path(3, n_train=40, n_val=10, n_test=1, seed=0)
    problem = GridShortestPath(3, n_features=5).astype(torch.float32)
    inputs, target = (torch.tensor(data["u_train"]),), torch.tensor(data["c_train"])

    def fitted(seed):
        model = CostNetwork()
        fit(model, problem, inputs, loss=DecisionLoss("cost-mse"), target=target,
            config=TrainConfig(n_steps=3, batch_size=8, lr=1e-2, eval_every=1, seed=seed),
            cache=WeightCache(tmp_path / f"cache{seed}"))
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    state = torch.random.get_rng_state()
    first = fitted(1)
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(123)  # the global generator does not matter
    assert torch.equal(fitted(1), first)
    assert not torch.allclose(fitted(2), first)


def test_a_sampled_training_keys_on_the_sampler_code_and_refuses_stagewise(tmp_path, monkeypatch):
    """Instances drawn by a sampler are the training data: the sampler's code enters the cache key
    (its parameters do through the loss); a learned optimizer has no layers to train stage-wise."""
    from l2obench.datasets.instances import split_ids
    from l2obench.datasets.lasso_instances import LassoInstanceSampler
    from l2obench.solvers.learned_optimizers.l2o_pa import L2OPA
    from l2obench.solvers.learned_optimizers.loss import TrajectoryLoss

    sampler = LassoInstanceSampler(6, 10, 2, seed=0)
    loss = TrajectoryLoss(horizon=2, segment=1, sampler=sampler)
    config = TrainConfig(n_steps=1, batch_size=2, eval_every=1)
    prototype = sampler.sample(split_ids("val", 1))[0]
    reached = []
    real = fit_module.code_fingerprint
    monkeypatch.setattr(fit_module, "code_fingerprint", lambda *objects: reached.extend(objects) or real(*objects))
    fit(L2OPA(horizon=2), prototype, (split_ids("train", 2),), loss=loss, config=config,
        val=((split_ids("val", 2),), None), cache=WeightCache(tmp_path))
    assert LassoInstanceSampler in reached
    with pytest.raises(ValueError, match="stagewise"):
        fit(L2OPA(horizon=2), prototype, (split_ids("train", 2),), loss=loss, config=config,
            val=((split_ids("val", 2),), None), stagewise=True, cache=WeightCache(tmp_path))
