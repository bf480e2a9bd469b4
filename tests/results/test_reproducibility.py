"""Two benchopt runs with the same seed give identical tables; another seed changes the data.

A classical and a learned solver on a tiny data set of every benchmark, run without benchopt's
cache and with a fresh trained-weight cache each time (so training runs again).
"""
import numpy as np
import pytest

from l2obench.results import registry, regression
from l2obench.results.tables import load_results, tidy

TINY = {
    "lasso": dict(datasets=["compressed-sensing[n_train=64,n_test=32]"],
                  solvers=["ISTA[accelerated=True]", "LISTA[n_layers=3,n_steps=5]"]),
    "sparse_analysis": dict(datasets=["piecewise-constant[n=24,latent_dim=3,m=10,n_train=64,n_test=16]"],
                            solvers=["linearized-admm[transform=difference]",
                                     "implicit-admm[backward=jfb,depth=5,n_steps=3,batch_size=16]"]),
    "tv_deconvolution": dict(datasets=["tv-synthetic[n_train=40,n_test=8]"],
                             solvers=["PGD-analysis[accelerated=False]", "LPGD-Taut[n_layers=2,n_steps=4]"]),
}
TIME_COLUMNS = {"time_s", "train_time", "peak_memory"}


def run_table(name, folder, seed):
    # a generous timeout: the config's (10 s for lasso) cuts curves at machine-dependent budgets
    parquet = regression.run_benchmark(registry.BENCHMARKS[name], folder, seed=seed, max_runs=4, timeout=300,
                                       **TINY[name])
    table = tidy(load_results(parquet))
    return table.drop(columns=[c for c in table.columns if c in TIME_COLUMNS])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TINY))
def test_same_seed_same_table_other_seed_other_data(name, tmp_path):
    first = run_table(name, tmp_path / "a", seed=0)
    second = run_table(name, tmp_path / "b", seed=0)
    other = run_table(name, tmp_path / "c", seed=1)
    assert first["learned"].any() and (~first["learned"]).any(), "need a learned and a classical solver"
    assert first.columns.tolist() == second.columns.tolist()
    assert first[regression.KEYS].equals(second[regression.KEYS])
    numeric = [c for c in first.columns if first[c].dtype.kind in "fiub"]
    a, b = first[numeric].to_numpy(float), second[numeric].to_numpy(float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.nanmax(np.abs(a - b)) == 0.0
    common = first.merge(other, on=regression.KEYS, suffixes=("", "_other"))
    assert len(common), "the other seed produced no comparable rows"
    assert not np.allclose(common["value"], common["value_other"], equal_nan=True), \
        "seed 1 gave the same values as seed 0: the seed does not reach the data"
