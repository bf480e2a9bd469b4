r"""Shared base of the unrolled Lasso solvers (LISTA family, ALISTA, HyperLISTA, SLISTA).

Every model maps a batch of signals ``X`` (B, m) and per-sample penalties ``lmbd`` to codes
``Z`` (B, n) for :math:`F_x(z) = \tfrac12\|x - Dz\|^2 + \lambda\|z\|_1` by running ``T`` layers
that each generalise one ISTA step, :math:`z_{k+1} = \mathrm{ST}(W_1^k x + W_2^k z_k, \lambda\theta_k)`
(Gregor & LeCun 2010). With analytic weights a layer *is* an ISTA step (DESIGN.md, "One step,
many modes"); past the trained depth :meth:`UnrolledLasso.solve` continues with classical ISTA.

Thresholds are written :math:`\lambda\theta_k` (Ablin et al. 2019) so that a model trained on
per-sample penalties :math:`\lambda = \rho\,\lambda_{\max}(x)` stays an ISTA step at
initialisation (:math:`\theta_k = 1/L`).
"""
import torch
from torch import nn

from l2obench.objectives.lasso import lipschitz
from l2obench.objectives.validation import check_int, check_real, check_tensor
from l2obench.solvers.classical.ista import ISTA
from l2obench.solvers.prox import soft_threshold


def lmbd_column(lmbd, X):
    """Per-sample penalty as a (B, 1) tensor of ``X``'s dtype (``lmbd`` float or (B,))."""
    if isinstance(lmbd, torch.Tensor) and lmbd.ndim > 0:
        return lmbd.reshape(-1, 1).to(X.dtype)
    return torch.full((X.shape[0], 1), float(lmbd), dtype=X.dtype, device=X.device)


def support_selection_fraction(k, p_per_layer=1.2, p_max=13.0):
    """Fraction of entries that bypass the threshold at layer ``k`` (0-based), Chen et al. 2018."""
    return min(p_per_layer * (k + 1), p_max) / 100.0


def shrink_ss(U, thresh, fraction):
    r"""Soft-thresholding with support selection (LISTA-CPSS, Chen et al. NeurIPS 2018).

    The ``ceil(fraction * n)`` largest entries of :math:`|u|` (per sample) that also exceed
    the threshold are kept as they are ("trusted support"); the others are soft-thresholded.
    ``fraction`` is a float or a (B, 1) tensor in [0, 1].
    """
    shrunk = soft_threshold(U, thresh)
    n = U.shape[1]
    frac = torch.as_tensor(fraction, dtype=U.dtype).reshape(-1, 1)
    if float(frac.max()) <= 0:
        return shrunk
    k_max = max(1, min(n, int(torch.ceil(frac.max() * n))))
    absu = U.detach().abs()
    top = torch.topk(absu, k_max, dim=1).values                      # (B, k_max), descending
    k_each = torch.clamp(torch.ceil(frac * n).long(), 1, k_max).expand(U.shape[0], 1)
    cut = top.gather(1, k_each - 1)                                    # k-th largest |u|
    keep = (absu >= cut) & (absu >= thresh) & (frac > 0)
    return torch.where(keep, U, shrunk)


class UnrolledLasso(nn.Module):
    """Base class: ``n_layers`` learned layers, then classical ISTA.

    Subclasses store hyper-parameters in ``__init__`` and implement ``_init_params(D)``
    (create the learned tensors, names ending in ``_``, from the analytic ISTA weights),
    ``_context(X, lmbd)`` (per-batch precomputations) and ``_layer(k, Z, ctx)``.

    Parameters
    ----------
    n_layers : int
        Depth ``T`` of the unrolled network (>= 1).
    """

    def __init__(self, n_layers=16):
        super().__init__()
        self.n_layers = check_int("n_layers", n_layers, low=1)

    def hyper_params(self):
        """JSON-able hyper-parameters (they enter the weight-cache key)."""
        return {"n_layers": self.n_layers}

    def build(self, D):
        """Set the dictionary ``D`` (m, n) and initialise the weights analytically."""
        D = check_tensor("D", D, ndim=2)
        self.register_buffer("D_", D.detach().clone(), persistent=False)
        self.register_buffer("L_", lipschitz(D).detach().reshape(()).to(D.dtype), persistent=False)
        self._init_params(D)
        return self

    def _check_built(self):
        if not hasattr(self, "D_"):
            raise RuntimeError(f"{type(self).__name__}: call build(D) before using the model.")

    def forward(self, X, lmbd, n_layers=None):
        """Run the first ``n_layers`` (default all) layers from z_0 = 0; return Z (B, n)."""
        self._check_built()
        depth = self.n_layers if n_layers is None else check_int("n_layers", n_layers, low=0,
                                                                 high=self.n_layers)
        ctx = self._context(X, lmbd_column(lmbd, X))
        Z = X.new_zeros(X.shape[0], self.D_.shape[1])
        for k in range(depth):
            Z = self._layer(k, Z, ctx)
        return Z

    @torch.no_grad()
    def solve(self, X, lmbd, n_iter):
        """``n_iter`` iterations: the learned layers first, classical ISTA past the depth."""
        n_iter = check_int("n_iter", n_iter, low=0)
        Z = self.forward(X, lmbd, n_layers=min(n_iter, self.n_layers))
        if n_iter > self.n_layers:
            Z = ISTA(accelerated=False).solve(self.D_, X, lmbd, n_iter - self.n_layers, z0=Z)
        return Z

    def layer_parameters(self, k):
        """Learned tensors of layer ``k`` (for stage-wise training); default: all."""
        return list(self.parameters())

    @torch.no_grad()
    def init_from(self, shallower):
        """Start from a trained shallower model of the same class (depth continuation).

        Its tensors are copied by name: whole when the shapes agree (per-layer tensors, a
        shared weight), their first ``shallower.n_layers`` rows when the first dimension is the
        depth (per-layer vectors). The remaining layers keep their analytic initialisation, so
        the deeper model starts at most as bad as the shallower one followed by a few steps of
        the untrained layers.
        """
        self._check_built()
        if type(shallower) is not type(self) or shallower.n_layers > self.n_layers:
            raise ValueError(f"init_from: need a {type(self).__name__} with at most {self.n_layers} layers, "
                             f"got {type(shallower).__name__} with {getattr(shallower, 'n_layers', '?')}.")
        own = dict(self.named_parameters())
        for name, old in shallower.named_parameters():
            new = own.get(name)
            if new is None:
                continue
            if new.shape == old.shape:
                new.copy_(old)
            elif new.ndim >= 1 and new.shape[0] == self.n_layers and old.shape[0] == shallower.n_layers \
                    and new.shape[1:] == old.shape[1:]:
                new[:shallower.n_layers] = old
            else:
                raise ValueError(f"init_from: tensor {name!r} has shape {tuple(old.shape)}, "
                                 f"cannot seed {tuple(new.shape)}.")

    def lr_groups(self, params):
        """Adam parameter groups for ``params`` (see :func:`~l2obench.solvers.training.train`).

        Default: one group at the configured rate. Models whose tensors live on very different
        scales override it.
        """
        return list(params)

    def n_params(self):
        """Number of learned scalars."""
        return int(sum(p.numel() for p in self.parameters() if p.requires_grad))


def positive(value, name):
    """Check a positive hyper-parameter (step scale, fractions)."""
    return check_real(name, value, low=0.0, low_open=True)
