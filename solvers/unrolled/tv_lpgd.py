r"""LPGD-Taut: unrolled proximal gradient with the exact TV prox (Cherkaoui, Sulam & Moreau,
NeurIPS 2020, Sec. 3).

Layer :math:`k` of a depth-:math:`T` network maps :math:`z_k` to

.. math:: z_{k+1} = \mathrm{prox}_{\lambda\theta_k TV}\big(z_k - (Hz_k - x)^\top W_k\big),

with learned :math:`W_k\in\mathbb R^{m\times n}` and :math:`\theta_k > 0`. With the analytic
weights :math:`W_k = H/\|H\|^2`, :math:`\theta_k = 1/\|H\|^2` a layer *is* a PGD step
(:func:`l2obench.solvers.classical.tv_pgd.pgd_layer`). The prox is the exact one, and its
Jacobian (segment averaging, :mod:`l2obench.solvers.prox_tv`) carries the gradient. Past the
trained depth, :meth:`TVUnrolled.solve` continues with classical PGD from the last layer.
:class:`TVUnrolled` is the shared base of the three TV networks (LPGD-Taut, LPGD-LISTA, LISTA).
"""
import torch
from torch import nn

from l2obench.objectives.tv_deconvolution import lipschitz, tv_value
from l2obench.objectives.validation import check_int, check_tensor
from l2obench.solvers.classical.tv_pgd import TVProximalGradient, pgd_layer
from l2obench.solvers.prox_tv import ProxWarmStart


def lmbd_vector(lmbd, X):
    """Per-sample penalty as a (B,) tensor of X's dtype."""
    if isinstance(lmbd, torch.Tensor) and lmbd.ndim > 0:
        return lmbd.reshape(-1).to(X.dtype)
    return torch.full((X.shape[0],), float(lmbd), dtype=X.dtype)


class TVUnrolled(nn.Module):
    """Base: ``n_layers`` learned layers on the operator ``H``, then a classical iteration.

    Subclasses implement ``_init_params(H)`` (learned tensors, names ending in ``_``),
    ``_start(X)`` (the initial iterate), ``_layer(k, state, X, lmbd)``, ``_output(state)`` (the
    analysis signal z) and ``_classical(H, X, lmbd, n_iter, state)`` (the iteration they
    generalise, run past the trained depth).
    """

    def __init__(self, n_layers=10):
        super().__init__()
        self.n_layers = check_int("n_layers", n_layers, low=1)
        self._warm = None

    def hyper_params(self):
        return {"n_layers": self.n_layers}

    def build(self, H):
        """Create the learned tensors from the analytic weights of ``H`` (m, n); returns self."""
        H = check_tensor("H", H, ndim=2)
        self.register_buffer("H_", H.clone(), persistent=True)
        self._init_params(H)
        return self

    def n_params(self):
        return int(sum(p.numel() for p in self.parameters() if p.requires_grad))

    def forward(self, X, lmbd, n_layers=None, all_layers=False):
        """Apply the first ``n_layers`` learned layers (default all); z (B, n) or a list of them."""
        depth = self.n_layers if n_layers is None else min(n_layers, self.n_layers)
        lam = lmbd_vector(lmbd, X)
        state = self._start(X)
        outputs = []
        for k in range(depth):
            state = self._layer(k, state, X, lam)
            if all_layers:
                outputs.append(self._output(state))
        return outputs if all_layers else self._output(state)

    def solve(self, X, lmbd, n_iter):
        """``n_iter`` layers: the learned ones, then the classical iteration; returns z (B, n)."""
        n_iter = check_int("n_iter", n_iter, low=0)
        X = check_tensor("X", X, ndim=2, shape=(None, self.H_.shape[0]), dtype=self.H_.dtype)
        self._warm = ProxWarmStart()  # inference on a fixed batch: reuse the jumps across layers
        with torch.no_grad():
            state = self._start(X)
            lam = lmbd_vector(lmbd, X)
            for k in range(min(n_iter, self.n_layers)):
                state = self._layer(k, state, X, lam)
            self._warm = None
            extra = n_iter - self.n_layers
            if extra > 0:
                return self._classical(self.H_, X, lam, extra, state)
            return self._output(state)


class LPGDTaut(TVUnrolled):
    """LPGD-Taut; see the module docstring. Parameters: ``n_layers`` (depth T)."""

    def _init_params(self, H):
        alpha = 1.0 / float(lipschitz(H))
        self.W_ = nn.ParameterList([nn.Parameter(alpha * H.clone()) for _ in range(self.n_layers)])
        self.theta_ = nn.ParameterList(
            [nn.Parameter(torch.tensor(alpha, dtype=H.dtype)) for _ in range(self.n_layers)])

    def _start(self, X):
        return torch.zeros(X.shape[0], self.H_.shape[1], dtype=X.dtype)

    def _layer(self, k, Z, X, lam):
        return pgd_layer(Z, Z @ self.H_.T - X, self.W_[k], lam * self.theta_[k].clamp_min(0), self._warm)

    def _output(self, Z):
        return Z

    def _classical(self, H, X, lam, n_iter, Z):
        return TVProximalGradient(accelerated=False).solve(H, X, lam, n_iter, z0=Z)


def objective_loss(model, X, lmbd, all_layers=False):
    r"""Unsupervised loss of the paper: :math:`\mathbb E_x P_x(z_T(x))` (mean over layers if ``all_layers``)."""
    H = model.H_
    if all_layers:
        outs = model(X, lmbd, all_layers=True)
        return torch.stack([tv_value(H, X, Z, lmbd).mean() for Z in outs]).mean()
    return tv_value(H, X, model(X, lmbd), lmbd).mean()
