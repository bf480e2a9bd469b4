"""benchopt's parallel backends on the suite (issue 14; README, *Running on many cores or a cluster*).

- Every benchmark has ``configs/parallel/{loky,dask,slurm}.yml`` and every key in them (the
  commented alternatives too) is one benchopt reads: each file goes through benchopt's own path,
  ``check_parallel_config`` then ``parallel_run`` (loky, for real), ``check_dask_config`` (dask)
  or ``get_slurm_executor`` (SLURM, whose submitit executor rejects unknown keys).
- A run through ``--parallel-config`` on a dask ``LocalCluster`` (loopback, 2 worker processes,
  1 thread each) gives the sequential run's table, times apart, and its workers fill the training
  and reference-solve caches with the entries the sequential run writes.
- Several dask workers filling one fresh cache at once (the same training, the same ``cached``
  call) all get the same loadable result, and the folder holds one complete entry per key and no
  temporary file.
"""
import inspect
import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import yaml

from support import run_benchopt

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = sorted(p.parent.name for p in (ROOT / "benchmarks").glob("*/objective.py"))
CONFIGS = sorted(ROOT.glob("benchmarks/*/configs/parallel/*.yml"))
BACKEND_OF = {"loky": "loky", "dask": "dask", "slurm": "submitit"}

# Columns left out of the sequential/parallel comparison; every other column must be equal.
# Wall-clock values: benchopt's timed `time`, the learned solvers' `objective_train_time` (0 when
# the weights come from the cache) and the run's date.
TIME_COLUMNS = {"time", "objective_train_time", "run_date"}
# The process and machine benchopt records: `env-OMP_NUM_THREADS` (dask's nanny sets it in its
# workers), `platform*`, `system-*`, `version-*` (the same machine here, another one on a cluster)
# and `benchmark-git-tag`.
MACHINE_PREFIXES = ("env-", "platform", "system-", "version-", "benchmark-git-tag")


def _compared_columns(columns):
    return [c for c in columns if c not in TIME_COLUMNS and not c.startswith(MACHINE_PREFIXES)]


# --- every key of every parallel config is one benchopt reads ---------------------------------

def _commented_keys(path):
    """The alternatives a file shows as comments (``# dask_address: ...``), as a dict."""
    out = {}
    for line in path.read_text().splitlines():
        if re.match(r"#\s*(dask_\w+|slurm_\w+|n_jobs|backend|inner_max_num_threads):\s", line):
            out.update(yaml.safe_load(line.lstrip("#").strip()))
    return out


@pytest.fixture
def read_config(monkeypatch):
    """benchopt's own reading of a file (``check_parallel_config``), without leaving the test process
    marked as a distributed front node."""
    from benchopt import parallel_backends

    monkeypatch.setattr(parallel_backends, "_DISTRIBUTED_FRONTAL", parallel_backends._DISTRIBUTED_FRONTAL)
    return lambda path: parallel_backends.check_parallel_config(str(path), None)


def test_every_benchmark_has_the_three_parallel_configs():
    for name in BENCHMARKS:
        found = {p.stem for p in (ROOT / "benchmarks" / name / "configs" / "parallel").glob("*.yml")}
        assert found == set(BACKEND_OF), (name, sorted(found))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT / "benchmarks")))
def test_parallel_config_backend(path, read_config):
    from benchopt.parallel_backends import DISTRIBUTED_BACKENDS

    config = read_config(path)
    assert config["backend"] == BACKEND_OF[path.stem] and config["backend"] in DISTRIBUTED_BACKENDS


def _named_parameters(f):
    return {n for n, p in inspect.signature(f).parameters.items()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and n != "self"}


def _joblib_keys():
    import joblib

    return _named_parameters(joblib.parallel_config.__init__) | {"batch_size"}  # benchopt pops batch_size


def test_loky_configs_run_through_benchopt(read_config):
    """benchopt pops `backend` and `batch_size` and hands the rest to joblib.parallel_config, whose
    named parameters they must be (an unknown one would silently reach the loky backend); a
    trivial job then runs through benchopt's `parallel_run` with the file's settings."""
    from benchopt.parallel_backends import parallel_run

    for path in (p for p in CONFIGS if p.stem == "loky"):
        config = {**read_config(path), **_commented_keys(path)}
        assert set(config) - {"backend"} <= _joblib_keys(), (path, sorted(set(config) - _joblib_keys()))
        out = parallel_run(None, lambda x: (x * x,), ({"x": i} for i in range(3)), config)
        assert sorted(item[0] for item in out) == [0, 1, 4], path


def test_dask_configs_hold_keys_distributed_accepts(read_config, monkeypatch):
    """benchopt's `check_dask_config` strips `dask_` and calls distributed.Client: its keyword
    arguments must be Client's (with an address) or Client's and LocalCluster's (without one: a
    misspelt one would only fail when a worker starts); what is left goes to joblib."""
    from benchopt.parallel_backends import dask_backend
    from distributed import Client, LocalCluster

    calls = []
    monkeypatch.setattr(dask_backend, "Client", lambda **kwargs: calls.append(kwargs) or "client")
    client_keys, cluster_keys = _named_parameters(Client.__init__), _named_parameters(LocalCluster.__init__)
    joblib_keys = _joblib_keys()
    for path in (p for p in CONFIGS if p.stem == "dask"):
        started = read_config(path)
        alternative = {"backend": "dask", **_commented_keys(path)}  # the README: the address alone
        assert "dask_address" in alternative, path
        for config in (started, alternative):
            calls.clear()
            rest = dask_backend.check_dask_config(dict(config))
            kwargs = calls[0]
            allowed = client_keys if "address" in kwargs else client_keys | cluster_keys
            assert set(kwargs) <= allowed, (path, sorted(set(kwargs) - allowed))
            assert set(rest) - {"backend", "client"} <= joblib_keys, (path, rest)
        assert set(calls[0]) == {"address"}
        assert started["dask_threads_per_worker"] == 1 and started["dask_n_workers"] >= 1


def test_slurm_configs_hold_keys_submitit_accepts(read_config, tmp_path):
    """benchopt merges the `slurm_*` keys (`merge_slurm_configs`, as `run_on_slurm` does) and hands
    them to submitit's AutoExecutor, which raises NameError on a key SLURM's executor lacks."""
    from benchopt.parallel_backends.slurm_executor import get_slurm_executor, merge_slurm_configs

    class Benchmark:  # what get_slurm_executor uses of benchopt's Benchmark
        def get_slurm_folder(self):
            return tmp_path / "slurm"

    for path in (p for p in CONFIGS if p.stem == "slurm"):
        config = {**read_config(path), **_commented_keys(path)}
        assert config.pop("backend") == "submitit"
        assert {"slurm_time", "slurm_gres", "slurm_additional_parameters"} <= set(config), path
        assert isinstance(config["slurm_time"], str) and config["slurm_time"].count(":") == 2
        get_slurm_executor(Benchmark(), merge_slurm_configs(config), timeout=100)


# --- a dask run equals the sequential run -------------------------------------------------------

@contextmanager
def local_cluster(cache):
    """2 worker processes with 1 thread each on 127.0.0.1, whose workers use ``cache``."""
    from distributed import LocalCluster

    env = {"L2OBENCH_CACHE": str(cache), "BENCHOPT_RAISE_ON_ERROR": "1"}
    with LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, env=env) as cluster:
        yield cluster


# A tiny lasso run: two classical solvers and a learned one at two learning rates, trained on
# the semi-supervised loss, so that the workers fill the training cache and the reference-solve
# cache (the certified solution of the training split) at once.
RUN = ["-s", "ISTA[accelerated=[False,True]]",
       "-s", "SLISTA[n_layers=3,loss=semi-supervised,n_steps=10,lr=[0.01,0.02]]",
       "-o", "lasso[reg=0.1,dtype=float64]", "-d", "equiregularized[n_train=64,n_test=16,n_dim=16,n_atoms=32]",
       "-n", "10", "--timeout", "120", "--seed", "0"]


def run_lasso(out, cache, *extra):
    # one thread, as on the dask workers (their nanny sets OMP_NUM_THREADS=1): same kernels, same bits
    proc = run_benchopt("lasso", *RUN, "--output", str(out), *extra, cache=cache,
                        BENCHOPT_RAISE_ON_ERROR="1", OMP_NUM_THREADS="1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _sorted_table(path):
    table = pd.read_parquet(path)
    keys = ["dataset_name", "objective_name", "solver_name", "idx_rep", "stop_val"]
    return table.sort_values(keys, kind="stable").reset_index(drop=True)


def _cache_files(folder):
    return sorted(p.name for p in Path(folder).iterdir())


@pytest.mark.slow
def test_a_dask_run_gives_the_sequential_table(tmp_path):
    run_lasso(tmp_path / "sequential.parquet", tmp_path / "sequential_cache")
    with local_cluster(tmp_path / "dask_cache") as cluster:
        config = tmp_path / "dask.yml"
        config.write_text(f"backend: dask\ndask_address: {cluster.scheduler_address}\n")
        stdout = run_lasso(tmp_path / "dask.parquet", tmp_path / "dask_cache", "--parallel-config", str(config))
    assert "Distributed run with backend: dask" in stdout

    sequential, parallel = _sorted_table(tmp_path / "sequential.parquet"), _sorted_table(tmp_path / "dask.parquet")
    assert TIME_COLUMNS <= set(sequential.columns), "benchopt renamed a time column: update TIME_COLUMNS"
    assert list(sequential.columns) == list(parallel.columns)
    compared = _compared_columns(sequential.columns)
    assert {"objective_value", "objective_nmse_db", "objective_trained_metric", "stop_val"} <= set(compared)
    assert sequential["solver_name"].nunique() == 4
    pd.testing.assert_frame_equal(sequential[compared], parallel[compared], check_exact=True)
    # the workers wrote exactly the entries the sequential run wrote (2 trainings, 1 reference solve
    # of the training split, …): the same keys, complete, and no temporary file
    assert _cache_files(tmp_path / "dask_cache") == _cache_files(tmp_path / "sequential_cache")
    assert all(name.endswith(".pt") for name in _cache_files(tmp_path / "dask_cache"))


# --- several dask workers fill one cache at once ------------------------------------------------

def _barrier(folder, n, timeout=60.0):
    """Wait until ``n`` parties (threads of any worker process) have arrived."""
    Path(folder).mkdir(exist_ok=True)
    (Path(folder) / f"{os.getpid()}-{threading.get_ident()}").touch()
    deadline = time.monotonic() + timeout
    while len(list(Path(folder).iterdir())) < n:
        if time.monotonic() > deadline:
            raise TimeoutError("the other workers never arrived")
        time.sleep(0.005)


def _fit_on_worker(cache_dir, barrier_dir, n_parties):
    """Runs on a dask worker: the same semi-supervised SLISTA fit as every other worker."""
    from l2obench.datasets.sparse_coding import make_equiregularized
    from l2obench.objectives.lasso import LassoProblem, lambda_max
    from l2obench.solvers.cache import WeightCache
    from l2obench.solvers.fit import fit
    from l2obench.solvers.losses import Loss
    from l2obench.solvers.training import TrainConfig
    from l2obench.solvers.unrolled.lasso.slista import SLISTA

    os.environ["L2OBENCH_CACHE"] = cache_dir  # the reference solve's cache (the default folder)
    data = make_equiregularized(64, 16, 16, 32, seed=0)
    X, lmbd = data.X_train, 0.1 * lambda_max(data.D, data.X_train)
    model = SLISTA(n_layers=3)
    _barrier(barrier_dir, n_parties)
    meta = fit(model, LassoProblem(data.D), (X, lmbd), loss=Loss("semi-supervised"),
               config=TrainConfig.for_budget(10, lr=1e-2), cache=WeightCache(cache_dir))
    return os.getpid(), meta["cache_key"], {k: v.clone() for k, v in model.state_dict().items()}


def _cached_on_worker(cache_dir, barrier_dir, n_parties, n_threads):
    """Runs on a dask worker: ``n_threads`` threads call the same ``cached`` at once; each returns
    what it computed and what it then loads from the cache."""
    import torch

    from l2obench.solvers.cache import WeightCache, cached

    def compute():
        time.sleep(0.1)  # every party computes before any has stored: the writes overlap
        w = torch.randn(300, 300, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        return w, {"w": w}, {"train_time": 0.0}

    def recompute():
        raise AssertionError("the entry was stored: a second call must load it")

    results, errors = [], []

    def one():
        try:
            _barrier(barrier_dir, n_parties)
            got = cached({"what": "concurrency test"}, compute, lambda t, m: t["w"], cache=WeightCache(cache_dir))
            again = cached({"what": "concurrency test"}, recompute, lambda t, m: t["w"], cache=WeightCache(cache_dir))
            results.append((got, again))
        except Exception as exc:  # reported to the test process
            errors.append(repr(exc))

    threads = [threading.Thread(target=one) for _ in range(n_threads)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return os.getpid(), results, errors


@pytest.fixture
def pickle_this_module_by_value():
    """Dask sends the task functions above by value: this test module is not importable on a worker."""
    import cloudpickle

    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    yield
    cloudpickle.unregister_pickle_by_value(module)


@pytest.mark.slow
def test_dask_workers_filling_one_training_cache_at_once(tmp_path, pickle_this_module_by_value):
    """2 worker processes run the same semi-supervised fit at once: both solve for the reference
    targets and train, and both store the two entries."""
    import torch
    from distributed import Client

    from l2obench.solvers.cache import WeightCache

    cache = tmp_path / "cache"
    with local_cluster(cache) as cluster, Client(cluster) as client:
        workers = sorted(client.scheduler_info()["workers"])
        assert len(workers) == 2
        futures = [client.submit(_fit_on_worker, str(cache), str(tmp_path / "barrier"), 2, workers=[w], pure=False)
                   for w in workers]
        results = client.gather(futures)
    assert len({pid for pid, *_ in results}) == 2  # two processes trained at the same time
    (_, key, state), (_, key2, state2) = results
    assert key == key2 and state.keys() == state2.keys()
    assert all(torch.equal(state[k], state2[k]) for k in state)
    # one training entry and one reference-solve entry, both complete, no temporary file
    files = _cache_files(cache)
    assert len(files) == 2 and f"{key}.pt" in files and all(f.endswith(".pt") for f in files), files
    loaded = WeightCache(cache).load(key)
    assert loaded is not None and all(torch.equal(loaded[0][k], state[k]) for k in state)


@pytest.mark.slow
def test_dask_workers_filling_one_cached_entry_at_once(tmp_path, pickle_this_module_by_value):
    """2 worker processes x 4 threads store the same entry at once (threads of one process share a
    pid: the temporary file's name must be unique per write, not per process)."""
    import torch
    from distributed import Client

    from l2obench.solvers.cache import WeightCache, cache_key

    cache, n_threads = tmp_path / "cache", 4
    with local_cluster(cache) as cluster, Client(cluster) as client:
        workers = sorted(client.scheduler_info()["workers"])
        futures = [client.submit(_cached_on_worker, str(cache), str(tmp_path / "barrier"), 2 * n_threads, n_threads,
                                 workers=[w], pure=False) for w in workers]
        results = client.gather(futures)
    assert len({pid for pid, *_ in results}) == 2
    assert [errors for _, _, errors in results] == [[], []]
    expected = torch.randn(300, 300, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    pairs = [pair for _, res, _ in results for pair in res]
    assert len(pairs) == 2 * n_threads
    assert all(torch.equal(got, expected) and torch.equal(again, expected) for got, again in pairs)
    assert _cache_files(cache) == [f"{cache_key({'what': 'concurrency test'})}.pt"]
    state, meta = WeightCache(cache).load(cache_key({"what": "concurrency test"}))
    assert torch.equal(state["w"], expected) and meta == {"train_time": 0.0}
