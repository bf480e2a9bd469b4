r"""Training losses of the learned solvers, for every problem of the problem interface.

Moreau's three settings (ARCHITECTURE.md, "Fitting a learned solver"):

- ``supervised``: :math:`\|\hat z(x) - z^\star\|^2` against the ground truth (solves the inverse
  problem);
- ``semi-supervised``: :math:`\|\hat z(x) - z^*(x)\|^2` against the problem's solution, computed by
  :func:`~l2obench.solvers.classical.reference.cached_certified_solve` (accelerates the solver);
- ``unsupervised``: the problem's objective :math:`F_x(\hat z(x))` (no label; Ablin et al. 2019,
  Cherkaoui et al. 2020), averaged over the layers with ``all_layers`` so that every prefix of the
  network is a good solver.

A loss is called as ``loss(model, *batch, n_layers=None)`` by
:func:`l2obench.solvers.training.train`: ``batch`` is ``(X, lmbd)`` unsupervised and
``(*inputs, target)`` otherwise, and the result is the mean over the batch.
"""
import torch

from l2obench.objectives.validation import check_choice
from l2obench.solvers.classical.reference import cached_certified_solve

KINDS = ("supervised", "semi-supervised", "unsupervised")


class TrainingLoss:
    """What :func:`l2obench.solvers.fit.fit` needs from a loss (every loss derives from it).

    ``get_params()`` (the cache key), ``targets(problem, inputs, target)`` (the tensor appended to
    each batch, or None), ``__call__(model, *batch, n_layers=None)`` (the mean training loss of a
    batch) and ``validation(model, *batch)``, the criterion of early stopping and of the best
    state (by default the training loss; a decision loss validates on the regret).
    """

    def get_params(self):
        raise NotImplementedError

    def targets(self, problem, inputs, target=None):
        return target

    def __call__(self, model, *batch, n_layers=None):
        raise NotImplementedError

    def validation(self, model, *batch):
        return self(model, *batch)


class Loss(TrainingLoss):
    """A training loss (see the module docstring).

    Parameters
    ----------
    kind : {'supervised', 'semi-supervised', 'unsupervised'}
    all_layers : bool
        Unsupervised only: the mean of the objective over the outputs of every layer.
    """

    def __init__(self, kind="supervised", all_layers=False):
        self.kind = check_choice("loss", kind, KINDS)
        self.all_layers = check_choice("all_layers", all_layers, (False, True))
        if self.all_layers and self.kind != "unsupervised":
            raise ValueError(f"all_layers=True is implemented for loss='unsupervised' only, got loss={kind!r}.")

    def get_params(self):
        return {"kind": self.kind, "all_layers": self.all_layers}

    def targets(self, problem, inputs, Z_true=None, tol=1e-10):
        """Training targets: ``Z_true``, the certified solution of ``problem`` for ``inputs = (X, lmbd)``,
        or None (unsupervised)."""
        if self.kind == "supervised":
            if Z_true is None:
                raise ValueError("loss='supervised' needs ground-truth targets; this dataset has none "
                                 "(use 'semi-supervised' or 'unsupervised').")
            return Z_true
        if self.kind == "semi-supervised":
            # float64 solve, cached on disk (and re-certified on load): continuation and reruns reuse it
            X, lmbd = inputs
            return cached_certified_solve(problem.double(), X.double(), lmbd.double(), tol=tol).Z.to(X.dtype)
        return None

    def __call__(self, model, *batch, n_layers=None):
        kwargs = {} if n_layers is None else {"n_layers": n_layers}
        if self.kind == "unsupervised":
            X, lmbd = batch
            if self.all_layers:
                outputs = model(X, lmbd, all_layers=True, **kwargs)
                return torch.stack([model.problem_.value(X, Z, lmbd).mean() for Z in outputs]).mean()
            return model.problem_.value(X, model(X, lmbd, **kwargs), lmbd).mean()
        *inputs, target = batch
        return ((model(*inputs, **kwargs) - target) ** 2).sum(dim=1).mean()
