"""Shared adapter code of the tv_deconvolution benchmark (imported by benchopt as ``benchmark_utils``)."""
from l2obench.solvers.benchopt_adapters import LearnedSolver


class LearnedTVSolver(LearnedSolver):
    """A learned TV solver: trained on the problem's objective (unsupervised, Cherkaoui et al.
    2020), every layer's output in the loss with ``all_layers``; a validation evaluation every
    ``min(50, n_steps)`` steps."""

    protocol_defaults = {**LearnedSolver.protocol_defaults, "loss": "unsupervised"}
    n_evals, max_eval_every = 1, 50
