"""Every configuration of a benchopt run checked before the first solver runs (issue 16).

benchopt 1.10 creates its datasets, objectives and solvers lazily, one data set after the
other: a bad parameter of the second data set used to surface only once the first had finished,
and the aborted run wrote no result file. Two pieces make a bad configuration fail first:

- :class:`CheckedParameters`, a mixin for benchopt classes: ``check_parameters(**parameters)``
  runs when benchopt creates the instance (``get_instance``), with every parameter's value
  (the class's defaults updated with the selection). A data set adapter derives from
  :class:`BenchmarkDataset` and calls its generator's ``check_*`` function there, so nothing
  is generated to find a bad size.
- :func:`check_configurations`: creates every selected configuration of a run, which runs those
  checks, and raises one ``click.BadParameter`` listing every bad configuration.
  :func:`install` hooks it in front of benchopt's run loop (``_generate_runs._get_all_runs``,
  benchopt's own enumeration of the run); a benchmark gets it as soon as one of its classes
  derives from :class:`CheckedParameters` (its module is imported when benchopt resolves
  ``-d``/``-s``, before the run starts). ``tests/datasets/test_benchopt_checks.py`` fails if
  a benchopt upgrade moves that function.
"""
import functools
import re
import warnings

import click
from benchopt import BaseDataset

_PREFLIGHT = "l2obench_preflight"


def _configuration_name(klass, parameters):
    # as the solver adapters name themselves: device=cpu (the default) left out
    shown = {k: v for k, v in parameters.items() if not (k == "device" and v == "cpu")}
    return f"{klass.name}[{','.join(f'{k}={v}' for k, v in sorted(shown.items()))}]"


def check_configurations(datasets=(), objectives=(), solvers=()):
    """Create every selected configuration once; raise ``click.BadParameter`` listing the bad ones.

    Parameters
    ----------
    datasets, objectives, solvers : list of (class, parameters)
        benchopt's resolved selections (``Benchmark.check_dataset_patterns`` and friends).
    """
    from benchopt.utils.parametrized_name_mixin import _get_used_parameters

    errors = []
    for kind, selection in (("dataset", datasets), ("objective", objectives), ("solver", solvers)):
        for klass, parameters in selection or ():
            if kind != "objective" and not klass.is_installed(quiet=True):
                continue  # benchopt reports it as not installed
            for params in _get_used_parameters(klass, parameters):
                try:
                    klass.get_instance(**params)
                except ValueError as exc:  # benchopt prefixes "Error when initializing <Kind>: "<name>". "
                    message = re.sub(r'^Error when initializing \w+: ".*?"\. ', "", str(exc))
                    errors.append(f"{kind} {_configuration_name(klass, params)}: {message}")
    if errors:
        raise click.BadParameter("bad configuration, nothing was run:\n- " + "\n- ".join(errors))


def install():
    """Put :func:`check_configurations` in front of benchopt's run loop (idempotent)."""
    from benchopt import _generate_runs

    original = getattr(_generate_runs, "_get_all_runs", None)
    if original is None:  # another benchopt: run without the preflight rather than not at all
        warnings.warn("benchopt has no _generate_runs._get_all_runs: configurations are checked one by "
                      "one as benchopt reaches them (l2obench.datasets.benchopt_checks).", RuntimeWarning)
        return
    if getattr(original, _PREFLIGHT, False):
        return

    @functools.wraps(original)
    def _get_all_runs(benchmark, solvers=None, forced_solvers=None, datasets=None, objectives=None,
                      terminal=None):
        check_configurations(datasets, objectives, solvers)
        yield from original(benchmark, solvers=solvers, forced_solvers=forced_solvers, datasets=datasets,
                            objectives=objectives, terminal=terminal)

    setattr(_get_all_runs, _PREFLIGHT, True)
    _generate_runs._get_all_runs = _get_all_runs


class CheckedParameters:
    """Mixin for a benchopt Dataset, Objective or Solver: its parameters are checked at creation.

    Override :meth:`check_parameters` (keyword arguments: the parameter names, expanded) and
    raise ``ValueError`` naming the bad parameter.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        install()

    def save_parameters(self, **parameters):
        # benchopt's get_instance calls this right after __init__ with the selected values;
        # ``_parameters`` then holds every parameter (defaults filled in)
        super().save_parameters(**parameters)
        self.check_parameters(**self._parameters)

    def check_parameters(self, **parameters):
        """Raise ``ValueError`` naming a bad parameter (default: nothing to check)."""


def parametrized_name(name, parameters, unnamed_defaults):
    """benchopt's parametrized name ``name[k=v,...]`` without the parameters at their
    ``unnamed_defaults`` value: a parameter added later (a device, a shifted test set) leaves the
    names of the existing curves, and so their baselines, unchanged."""
    shown = {k: v for k, v in parameters.items() if not (k in unnamed_defaults and v == unnamed_defaults[k])}
    return name + (f"[{','.join(f'{k}={shown[k]}' for k in sorted(shown))}]" if shown else "")


class BenchmarkDataset(CheckedParameters, BaseDataset):
    """Base of the suite's benchopt data sets: ``check_parameters`` calls the generator's checks.

    ``test_set=in-distribution`` stays out of the name (:func:`parametrized_name`): a data set's
    shifted test set (``test_set=shifted``) has rows of its own, the in-distribution rows keep
    the names they had before the parameter existed."""

    unnamed_defaults = {"test_set": "in-distribution"}

    def __repr__(self):
        return parametrized_name(self.name, self._parameters, self.unnamed_defaults)
