"""benchmarks/lasso/reproduce_papers.py: ``fit(continuation=True)`` is the adapters' depth continuation."""
import torch
from support import load_script as load


def load_script():  # the script imports its papers_* modules by name
    return load("benchmarks/lasso/reproduce_papers.py", "lasso_reproduce_papers", on_path=True)


def test_continuation_trains_the_adapters_chain_of_depths(tmp_path, monkeypatch):
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    rp = load_script()
    assert rp.continuation_depths(10) == [1, 2, 3, 5, 8, 10] and rp.continuation_depths(1) == [1]
    g = torch.Generator().manual_seed(0)
    D = torch.randn(6, 10, generator=g) / 6 ** 0.5
    X = torch.randn(40, 6, generator=g)
    lmbd = 0.1 * rp.lambda_max(D, X)
    opts = dict(loss="unsupervised", n_steps=4, lr=1e-2, seed=0)
    model, row = rp.fit("slista", D, X, lmbd, n_layers=3, continuation=True, **opts)
    chain = None
    for depth in (1, 2, 3):  # the same chain by hand: every depth a cache hit, the same weights
        chain, chain_row = rp.fit("slista", D, X, lmbd, n_layers=depth, init_from=chain, **opts)
        assert chain_row["cache_hit"]
    assert (model.steps() == chain.steps()).all()
    assert row["n_steps"] == 3 * 4 and not row["cache_hit"]
