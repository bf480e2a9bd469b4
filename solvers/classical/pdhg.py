r"""PDHG (Chambolle & Pock 2011), written once for every problem that gives its splitting.

Saddle-point form :math:`\min_z\max_w\ g(z) + \langle Kz, w\rangle - h^*(w)`:

.. math::
   w_{k+1} &= \mathrm{prox}_{\sigma h^*}(w_k + \sigma K\bar z_k) \\
   z_{k+1} &= \mathrm{prox}_{\tau g}(z_k - \tau K^\top w_{k+1}) \\
   \bar z_{k+1} &= 2z_{k+1} - z_k

with :math:`\sigma\tau\|K\|^2 \le 1`. The problem says what :math:`g, h, K` are
(:class:`Splitting`):

- a composite problem :math:`\tfrac12\|x - Az\|^2 + \lambda\|Kz\|_1` (:func:`quadratic_splitting`):
  :math:`g` the data term, whose prox :math:`(I + \tau A^\top A)^{-1}(v + \tau A^\top x)` uses an
  inverse formed once for the batch; :math:`h^* ` the indicator of :math:`[-\lambda, \lambda]`;
  :math:`\tau` a multiple of :math:`1/\|A\|^2`, :math:`\sigma = 1/(\|K\|^2\tau)` with the penalty's
  bound on :math:`\|K\|^2` (1 for the identity, 4 for first differences);
- a problem with its own ``pdhg_splitting(*inputs, tau=, z0=)`` (CT's TV-min: two dual blocks,
  the image gradients and the noise ball; :mod:`l2obench.objectives.ct`).

Returns the primal iterate ``z``.
"""
from dataclasses import dataclass
from typing import Callable

import torch

from l2obench.objectives.prox import project_box
from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.threads import torch_threads


@dataclass
class Splitting:
    """What PDHG iterates: operators, proxes, steps, starting points (``threads``: torch's, None = default)."""

    K: Callable
    Kt: Callable
    dual_prox: Callable      # v -> prox_{sigma h*}(v)
    primal_prox: Callable    # v -> prox_{tau g}(v)
    tau: float
    sigma: float
    z: torch.Tensor
    w: torch.Tensor
    threads: int = None


def quadratic_splitting(problem, X, lmbd, tau_factor, z0=None):
    """The splitting of a composite problem with a quadratic data term and :math:`\\lambda\\|K\\cdot\\|_1`."""
    X, lam, z = problem.check_inputs(X, lmbd, z0)
    penalty, A = problem.penalty, problem.A
    n = A.shape[1]
    if getattr(penalty, "weights", None) is not None:
        raise ValueError("PDHG: a weighted ℓ1 penalty is not supported (use the analysis form).")
    K = problem.analysis_matrix()
    tau = tau_factor / problem.datafit.lipschitz
    inv = torch.linalg.inv(torch.eye(n, dtype=A.dtype) + tau * problem.datafit.gram)  # symmetric
    bias = tau * (X @ A)
    return Splitting(K=lambda z: z @ K.T, Kt=lambda w: w @ K, dual_prox=lambda v: project_box(v, -lam, lam),
                     primal_prox=lambda v: (v + bias) @ inv, tau=tau, sigma=1.0 / (penalty.K_norm2 * tau), z=z,
                     w=torch.zeros(X.shape[0], K.shape[0], dtype=A.dtype),
                     threads=1 if penalty.single_threaded else None)


class PDHG:
    """Chambolle–Pock primal-dual iterations on a batch of problems.

    Parameters
    ----------
    tau : float
        Primal step as a multiple of its natural scale (1/‖A‖₂² for a quadratic data term, 1/‖K‖
        for a problem's own splitting; > 0); the dual step is σ = 1/(‖K‖²τ).
    """

    def __init__(self, tau=1.0):
        self.tau = tau

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming the bad one); returns self."""
        check_real("tau", self.tau, low=0.0, low_open=True)
        return self

    def solve(self, problem, *args, z0=None, callback=None, **kwargs):
        """``solve(problem, *inputs, n_iter)``: ``n_iter`` iterations from z = z0 (default: the
        problem's start), w = 0; returns Z (B, n). The inputs are the problem's, positional or by
        name: ``(X, lmbd)`` for a composite problem, ``(d,)`` for CT (``problem.input_names``).

        ``callback(k, z)``, if given, is called after each iteration k = 1..n_iter; returning
        ``True`` stops the solver.
        """
        self.check()
        names = (*getattr(problem, "input_names", ("X", "lmbd")), "n_iter")
        if len(args) > len(names) or set(kwargs) - set(names[len(args):]):
            raise TypeError(f"PDHG.solve takes (problem, {', '.join(names)}), got {len(args)} positional "
                            f"and {sorted(kwargs)} named arguments.")
        values = {**dict(zip(names, args)), **kwargs}
        if len(values) != len(names):
            raise TypeError(f"PDHG.solve: missing {[k for k in names if k not in values]}.")
        *inputs, n_iter = (values[k] for k in names)
        n_iter = check_int("n_iter", n_iter, low=0)
        if hasattr(problem, "pdhg_splitting"):
            s = Splitting(**problem.pdhg_splitting(*inputs, tau=self.tau, z0=z0))
        else:
            s = quadratic_splitting(problem, *inputs, self.tau, z0)
        z, w, tau, sigma = s.z, s.w, s.tau, s.sigma
        z_bar = z
        with torch_threads(s.threads):
            for it in range(n_iter):
                w = s.dual_prox(w + sigma * s.K(z_bar))
                z_new = s.primal_prox(z - tau * s.Kt(w))
                z_bar = 2 * z_new - z
                z = z_new
                if callback is not None and callback(it + 1, z) is True:
                    break
        return z
