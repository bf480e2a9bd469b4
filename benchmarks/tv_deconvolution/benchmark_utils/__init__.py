"""Shared adapter code of the tv_deconvolution benchmark (imported by benchopt as ``benchmark_utils``)."""
from l2obench.solvers.benchopt_adapters import BenchmarkData, LearnedSolver


class TVData(BenchmarkData):
    """The default entries (``X_test``, ``lmbd``; ``X_train``, no targets); a learned TV solver is
    trained on the objective P (unsupervised) or towards its certified minimiser
    (semi-supervised): either way the metric it makes small is ``value``."""

    trained_metrics = {"unsupervised": "value", "semi-supervised": "value"}


class LearnedTVSolver(TVData, LearnedSolver):
    """A learned TV solver: trained on the problem's objective (unsupervised, Cherkaoui et al.
    2020), every layer's output in the loss with ``all_layers``; a validation evaluation every
    ``min(50, n_steps)`` steps."""

    protocol_defaults = {**LearnedSolver.protocol_defaults, "loss": "unsupervised"}
    n_evals, max_eval_every = 1, 50
