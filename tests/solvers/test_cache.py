"""The weight cache: round trip, unusable files, code fingerprints, a bad cache folder."""
import inspect
import math
import re

import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers import cache as cache_module
from l2obench.solvers import fit as fit_module
from l2obench.solvers.cache import WeightCache, cached, code_fingerprint
from l2obench.solvers.fit import fit
from l2obench.solvers.losses import Loss
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.lasso import hyperlista  # noqa: F401  (loaded: must not count for LISTA-CP)
from l2obench.solvers.unrolled.lasso.lista_cp import LISTACP
from l2obench.solvers.unrolled.lasso.registry import make_model
from l2obench.solvers.unrolled.tv import lpgd  # noqa: F401
from support import sparse_coding_split as _sparse_problem


def _fit(model, D, X, lmbd, Z, config, cache):
    """What ``fit_unrolled(model, D, X, lmbd, Z_true=Z, ...)`` did: supervised training on the Lasso."""
    return fit(model, LassoProblem(D), (X, lmbd), loss=Loss("supervised"), target=Z, config=config, cache=cache)


def test_cache_round_trip_and_corrupt_file_recovery(tmp_path):
    D, (X, Z, lmbd), (X_te, _, lmbd_te) = _sparse_problem(n_train=256)
    cache = WeightCache(tmp_path)
    config = TrainConfig(n_steps=30, lr=1e-2, eval_every=10, seed=0)
    first = make_model("lista-cp", n_layers=3)
    meta = _fit(first, D, X, lmbd, Z, config, cache)
    assert not meta["cache_hit"]
    second = make_model("lista-cp", n_layers=3)
    hit = _fit(second, D, X, lmbd, Z, config, cache)
    assert hit["cache_hit"] and hit["cache_key"] == meta["cache_key"]
    assert torch.equal(first.solve(X_te, lmbd_te, 3), second.solve(X_te, lmbd_te, 3))
    # another budget is another key
    other = _fit(make_model("lista-cp", n_layers=3), D, X, lmbd, Z, TrainConfig(n_steps=31, lr=1e-2, eval_every=10),
                 cache)
    assert other["cache_key"] != meta["cache_key"]
    cache.path(meta["cache_key"]).write_bytes(b"not a torch file")
    # the message said "unreadable weight cache" before; the new one says "unusable cache file"
    with pytest.warns(RuntimeWarning, match="unusable"):
        again = _fit(make_model("lista-cp", n_layers=3), D, X, lmbd, Z, config, cache)
    assert not again["cache_hit"]
    assert _fit(make_model("lista-cp", n_layers=3), D, X, lmbd, Z, config, cache)["cache_hit"]


def _tamper_meta_not_a_dict(payload):
    payload["meta"] = [("train_time", 1.0)]


def _tamper_meta_without_train_time(payload):
    del payload["meta"]["train_time"]


def _tamper_nan_weights(payload):
    name = sorted(payload["state"])[0]
    payload["state"][name] = torch.full_like(payload["state"][name], math.nan)


def _tamper_inf_weights(payload):
    name = sorted(payload["state"])[-1]
    payload["state"][name] = payload["state"][name].clone().fill_(math.inf)


def _tamper_missing_tensor(payload):
    payload["state"].pop(sorted(payload["state"])[0])


@pytest.mark.parametrize("tamper, message", [
    (_tamper_meta_not_a_dict, "unusable"), (_tamper_meta_without_train_time, "does not fit"),
    (_tamper_nan_weights, "NaN"), (_tamper_inf_weights, "NaN or Inf"), (_tamper_missing_tensor, "does not fit")])
def test_an_unusable_cache_file_is_ignored_with_a_warning_and_retrained(tmp_path, tamper, message):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=128)
    cache = WeightCache(tmp_path)
    config = TrainConfig(n_steps=10, lr=1e-2, eval_every=5, patience=0)
    first = make_model("lista-cp", n_layers=2)
    meta = _fit(first, D, X, lmbd, Z, config, cache)
    path = cache.path(meta["cache_key"])
    payload = torch.load(path, weights_only=True)
    tamper(payload)
    torch.save(payload, path)
    model = make_model("lista-cp", n_layers=2)
    with pytest.warns(RuntimeWarning, match=message):
        again = _fit(model, D, X, lmbd, Z, config, cache)
    assert not again["cache_hit"] and again["cache_key"] == meta["cache_key"]
    # retrained (deterministically) from the analytic weights; nothing of the bad file was loaded
    for (name, p), q in zip(model.state_dict().items(), first.state_dict().values()):
        assert torch.equal(p, q), name
    # the retraining overwrote the file with a good one
    assert _fit(make_model("lista-cp", n_layers=2), D, X, lmbd, Z, config, cache)["cache_hit"]


def test_a_cache_folder_that_is_a_file_fails_before_training(tmp_path, monkeypatch):
    D, (X, Z, lmbd), _ = _sparse_problem(n_train=64)
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a regular file")
    monkeypatch.setenv("L2OBENCH_CACHE", str(not_a_folder))

    def no_training(*args, **kwargs):
        raise AssertionError("trained although the weights could not be stored")

    monkeypatch.setattr(fit_module, "train", no_training)
    with pytest.raises(ValueError, match="L2OBENCH_CACHE"):
        fit(make_model("lista", n_layers=2), LassoProblem(D), (X, lmbd), loss=Loss("supervised"), target=Z,
            config=TrainConfig(n_steps=5))
    with pytest.raises(ValueError, match="is a file"):
        WeightCache().check_writable()
    assert not_a_folder.read_text() == "a regular file"


def test_cached_computes_once_and_never_stores_what_compute_refuses(tmp_path):
    cache, calls = WeightCache(tmp_path), []

    def compute(store=True):
        calls.append(1)
        value = torch.arange(3.0)
        return value, ({"value": value} if store else None), {"n": len(calls)}

    def load(tensors, meta):
        return tensors["value"]

    assert torch.equal(cached({"a": 1}, compute, load, cache=cache), torch.arange(3.0))
    assert torch.equal(cached({"a": 1}, compute, load, cache=cache), torch.arange(3.0)) and len(calls) == 1
    cached({"a": 2}, lambda: compute(store=False), load, cache=cache)
    cached({"a": 2}, lambda: compute(store=False), load, cache=cache)
    assert len(calls) == 3 and len(list(tmp_path.glob("*.pt"))) == 1
    assert not list(tmp_path.glob("*.tmp*"))  # the atomic write leaves no temporary file
    with pytest.warns(RuntimeWarning, match="does not fit"):  # a load that refuses the entry recomputes
        cached({"a": 1}, compute, lambda tensors, meta: None, cache=cache)
    assert len(calls) == 4


def test_code_fingerprint_ignores_docs_and_sees_formulas(tmp_path, monkeypatch):
    import importlib

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


@pytest.fixture
def edited_sources(monkeypatch):
    """Pretend modules were edited: ``edits[module name] = edit``, ``edit(source) -> source``.

    The fingerprints are memoised per module: the memo is cleared before each computation here
    and after the test."""
    edits, real = {}, inspect.getsource

    def getsource(obj):
        source = real(obj)
        edit = edits.get(obj.__name__) if inspect.ismodule(obj) else None
        return edit(source) if edit else source

    monkeypatch.setattr(cache_module.inspect, "getsource", getsource)
    yield edits
    cache_module._module_fingerprint.cache_clear()


def _fingerprint(*objects):
    cache_module._module_fingerprint.cache_clear()
    return code_fingerprint(*objects)


def _code_edit(source):
    return source + "\n_EDITED = 1\n"


def _doc_edit(source):
    """Reword every docstring that starts on its opening line, and add a comment."""
    return re.sub(r'"""(?=[A-Za-z:`*\\])', '"""Reworded: ', source) + "\n# a new comment\n"


LISTACP_REACHES = [
    "l2obench.solvers.unrolled.lasso.lista_cp",           # the class
    "l2obench.solvers.unrolled.base",                      # its hierarchy: Unrolled
    "l2obench.solvers.params",                             # HyperParams
    "l2obench.solvers.classical.proximal_gradient",        # prox_grad_step, called by its layer
    "l2obench.objectives.problem",                         # residual_forward
    "l2obench.solvers.unrolled.lasso.support_selection",   # threshold_prox
    "l2obench.objectives.prox",                            # soft_threshold, called by threshold_prox
    "l2obench.solvers.unrolled.lasso.alista",              # analytic_weight (init='analytic')
]


@pytest.mark.parametrize("module", LISTACP_REACHES)
def test_code_fingerprint_sees_the_code_a_model_reaches_and_ignores_its_docs(edited_sources, module):
    before = _fingerprint(LISTACP)
    edited_sources[module] = _doc_edit
    assert _fingerprint(LISTACP) == before
    edited_sources[module] = _code_edit
    assert _fingerprint(LISTACP) != before


@pytest.mark.parametrize("module", ["l2obench.solvers.unrolled.lasso.hyperlista", "l2obench.solvers.unrolled.tv.lpgd",
                                    "l2obench.objectives.tv_prox"])
def test_code_fingerprint_ignores_code_the_model_cannot_reach(edited_sources, module):
    before = _fingerprint(LISTACP)
    edited_sources[module] = _code_edit
    assert _fingerprint(LISTACP) == before


def test_a_code_change_in_the_problem_is_a_new_training_key(edited_sources, tmp_path):
    """LPGD-Taut's layers call the exact TV prox through the problem: that code is in the key."""
    from l2obench.datasets.tv_deconvolution import make_tv_synthetic
    from l2obench.objectives.tv_deconvolution import TVProblem
    from l2obench.solvers.unrolled.tv.lpgd import LPGDTaut

    d = make_tv_synthetic(40, 1, seed=0)
    problem = TVProblem(d.H)
    inputs = (d.X_train, 0.1 * problem.lambda_max(d.X_train))
    options = dict(loss=Loss("unsupervised"), config=TrainConfig(n_steps=2, eval_every=1), cache=WeightCache(tmp_path))
    cache_module._module_fingerprint.cache_clear()
    first = fit(LPGDTaut(n_layers=2), problem, inputs, **options)
    assert fit(LPGDTaut(n_layers=2), problem, inputs, **options)["cache_hit"]
    edited_sources["l2obench.objectives.tv_prox"] = _code_edit
    cache_module._module_fingerprint.cache_clear()
    changed = fit(LPGDTaut(n_layers=2), problem, inputs, **options)
    assert changed["cache_key"] != first["cache_key"] and not changed["cache_hit"]
