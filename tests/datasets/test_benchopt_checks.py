"""Every configuration checked before the first solver runs: the data set adapters check their
parameters when benchopt creates them, and the preflight creates every selected one first."""
from pathlib import Path

import click
import pytest
from benchopt import BaseDataset
from benchopt.utils.parametrized_name_mixin import product_param

from l2obench.datasets import benchopt_checks

ROOT = Path(__file__).resolve().parents[2]

# one bad parameter per data set adapter of the suite, and the parameter the error must name
BAD = [
    ("lasso", "compressed-sensing", {"p": 0.0}, "p"),
    ("lasso", "equiregularized", {"n_test": 0}, "n_test"),
    ("lasso", "digits", {"n_atoms": 2000}, "n_atoms"),
    ("lasso", "digits", {"n_train": 1600}, "n_train"),
    ("sparse_analysis", "piecewise-constant", {"latent_dim": 120}, "latent_dim"),
    ("tv_deconvolution", "fmri-like", {"design": "blocks"}, "design"),
    ("tv_deconvolution", "tv-synthetic", {"p_jump": 1.5}, "p_jump"),
]


def dataset_class(benchmark, name):
    from benchopt.benchmark import Benchmark  # the class as benchopt loads it

    return next(d for d in Benchmark(ROOT / "benchmarks" / benchmark).get_datasets() if d.name == name)


@pytest.mark.parametrize("benchmark, name, params, bad", BAD, ids=[f"{n}-{b}" for _, n, _, b in BAD])
def test_a_bad_dataset_parameter_fails_when_benchopt_creates_the_dataset(benchmark, name, params, bad):
    cls = dataset_class(benchmark, name)
    with pytest.raises(ValueError, match=rf'"{name}"\. {bad}\b'):  # benchopt's prefix, then our message
        cls.get_instance(**params)
    cls.get_instance()                                   # the defaults and the test parameters pass
    for params in product_param(cls.test_parameters):
        cls.get_instance(**params)


def test_check_configurations_lists_every_bad_configuration_and_creates_no_data(monkeypatch):
    equi, digits = dataset_class("lasso", "equiregularized"), dataset_class("lasso", "digits")
    monkeypatch.setattr(digits, "get_data", lambda self: pytest.fail("a check generated data"))
    benchopt_checks.check_configurations(datasets=[(digits, {"n_train": [10, 20]})])   # all good
    with pytest.raises(click.BadParameter) as info:
        benchopt_checks.check_configurations(
            datasets=[(equi, {"n_test": [5, 0]}), (digits, {"n_atoms": [64, 2000]})])
    message = info.value.format_message()
    assert "nothing was run" in message
    assert "equiregularized[n_atoms=256,n_dim=64,n_test=0,n_train=10000]: n_test must be >= 1" in message
    assert "digits[n_atoms=2000,n_test=500,n_train=1000]: n_atoms=2000 is too large" in message
    assert message.count("\n- ") == 2                       # the good configurations are not listed


def test_the_preflight_sits_in_front_of_benchopts_run_loop_once():
    """Fails when a benchopt upgrade moves the function the preflight wraps."""
    from benchopt import _generate_runs

    dataset_class("lasso", "digits")          # loading a data set adapter installs it
    wrapped = _generate_runs._get_all_runs
    assert getattr(wrapped, "l2obench_preflight", False)
    benchopt_checks.install()
    assert _generate_runs._get_all_runs is wrapped          # idempotent: never wrapped twice
    assert not getattr(wrapped.__wrapped__, "l2obench_preflight", False)


def test_checked_parameters_see_every_value_with_the_defaults_filled_in():
    seen = []

    class Probe(benchopt_checks.CheckedParameters, BaseDataset):
        name = "probe"
        parameters = {"a, b": [(1, 2)], "c": [3, 4]}

        def check_parameters(self, **parameters):
            seen.append(parameters)
            if parameters["c"] < 0:
                raise ValueError(f"c must be >= 0, got {parameters['c']}.")

        def get_data(self):
            return {}

    Probe.get_instance(c=4)
    Probe.get_instance()
    assert seen == [{"a": 1, "b": 2, "c": 4}, {"a": 1, "b": 2, "c": 3}]
    with pytest.raises(ValueError, match="c must be >= 0"):
        Probe.get_instance(c=-1)
