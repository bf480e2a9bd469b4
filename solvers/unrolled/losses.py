r"""Training losses of the unrolled Lasso solvers (Moreau's three settings, REFERENCES.md).

- ``supervised``: :math:`\|z_T(x) - z^\star\|^2` against the ground-truth code (solves the
  inverse problem);
- ``semi-supervised``: :math:`\|z_T(x) - z^*(x)\|^2` against the Lasso solution computed by
  :func:`~l2obench.objectives.lasso.cached_reference_solve` (accelerates the Lasso);
- ``unsupervised``: the Lasso objective :math:`F_x(z_T(x))` (no label; Ablin et al. 2019).

Each loss is the mean over the batch, with the signature ``loss(model, X, lmbd, target=None,
n_layers=None)`` expected by :func:`l2obench.solvers.training.train`.
"""
from l2obench.objectives.lasso import cached_reference_solve, lasso_value
from l2obench.objectives.validation import check_choice

LOSSES = ("supervised", "semi-supervised", "unsupervised")


def make_loss(loss):
    """Return the loss function named ``loss`` (one of ``LOSSES``)."""
    check_choice("loss", loss, LOSSES)

    def loss_fn(model, X, lmbd, target=None, n_layers=None):
        Z = model(X, lmbd, n_layers=n_layers)
        if loss == "unsupervised":
            return lasso_value(model.D_, X, Z, lmbd).mean()
        return ((Z - target) ** 2).sum(dim=1).mean()

    return loss_fn


def make_targets(loss, D, X, lmbd, Z_true=None, tol=1e-10):
    """Training targets for ``loss``: ``Z_true``, the Lasso solution, or None (unsupervised)."""
    check_choice("loss", loss, LOSSES)
    if loss == "supervised":
        if Z_true is None:
            raise ValueError("loss='supervised' needs ground-truth codes Z_train; this dataset has "
                             "none (use 'semi-supervised' or 'unsupervised').")
        return Z_true
    if loss == "semi-supervised":
        # cached on disk (and re-certified on load): depth continuation and reruns reuse it
        return cached_reference_solve(D, X, lmbd, tol=tol).Z.to(X.dtype)
    return None
