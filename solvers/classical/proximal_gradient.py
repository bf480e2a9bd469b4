r"""Proximal gradient (ISTA, FISTA, restarted FISTA): one implementation for every problem.

For a problem :math:`F_x(z) = f(z; x) + \lambda g(z)` of :mod:`l2obench.objectives.problem`,
with step :math:`\alpha = s / L`, :math:`L = \|A\|_2^2`,

.. math:: z_{k+1} = \mathrm{prox}_{\alpha\lambda g}\big(y_k - \alpha\nabla f(y_k)\big),

with :math:`y_k = z_k` (ISTA, Daubechies et al. 2004) or the extrapolation
:math:`y_k = z_k + \frac{t_{k-1} - 1}{t_k}(z_k - z_{k-1})` (FISTA, Beck & Teboulle 2009), optionally
restarted per row when the momentum points uphill (O'Donoghue & Candès 2015). On the Lasso it
is ISTA / FISTA; on TV the analysis PGD of Cherkaoui et al. (2020); on the weighted Lasso of
the synthesis form its ISTA. :func:`prox_grad_step` is the step; a LISTA or LPGD layer is this very function with learned
weights in the gradient step (ARCHITECTURE.md, "One step, three modes").
"""
import math

import torch

from l2obench.objectives.validation import check_choice, check_int, check_real
from l2obench.solvers.threads import torch_threads

FORMS = ("auto", "gram", "residual")


def prox_grad_step(Z, forward, prox, thresh, out=None, buf=None, state=None):
    r"""One proximal-gradient step, :math:`\mathrm{prox}_\theta(\mathrm{forward}(Z))`: the step every
    classical, unrolled and implicit mode runs (ARCHITECTURE.md, "One step, three modes").

    Parameters
    ----------
    Z : Tensor (B, n)
    forward : callable ``forward(Z, out=None)``
        The gradient step: the data term's :meth:`~l2obench.objectives.problem.QuadraticDatafit.gradient_step`
        (classical), or :func:`~l2obench.objectives.problem.gram_forward` /
        :func:`~l2obench.objectives.problem.residual_forward` with learned weights (a LISTA or
        LPGD layer).
    prox : callable ``prox(U, thresh, out=None, state=None)``
        A penalty's prox (:meth:`~l2obench.objectives.problem.L1Penalty.prox`, the TV prox…).
    thresh : float or Tensor
    out, buf : Tensor, optional
        Preallocated result and gradient-step buffers (no autograd).
    state : optional
        The prox's per-solve state (:meth:`prox_state`).
    """
    return prox(forward(Z, out=buf), thresh, out=out, state=state)


def momentum(z, z_new, y, t, restart=False):
    r"""FISTA's extrapolation, written once: ``y ← z_new + β(z_new − z)``; returns :math:`t_{k+1}`.

    ``t`` is a float, or a (B, 1) tensor with ``restart`` (O'Donoghue–Candès gradient restart:
    the rows whose step points uphill get :math:`t = 1`, i.e. no momentum). ``y`` is written
    in place with one ``lerp`` kernel (weight :math:`1 + \beta` from ``z``).
    """
    if restart:
        uphill = ((y - z_new) * (z_new - z)).sum(dim=1, keepdim=True) > 0
        t = torch.where(uphill, torch.ones_like(t), t)
        t_new = (1 + torch.sqrt(1 + 4 * t ** 2)) / 2
        beta = torch.where(uphill, torch.zeros_like(t), (t - 1) / t_new)
        torch.addcmul(z_new, beta, z_new - z, out=y)
        return t_new
    t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
    torch.lerp(z, z_new, 1 + (t - 1) / t_new, out=y)
    return t_new


class ProximalGradient:
    """ISTA / FISTA / restarted FISTA on a batch of problems of the problem interface.

    Parameters
    ----------
    accelerated : bool
        Use FISTA's momentum.
    step : float
        Step size as a multiple of 1/L (> 0). Values above 2 make ISTA diverge; they are
        allowed so that divergence can be observed (the objective flags it).
    form : {'auto', 'gram', 'residual'}
        How the gradient step is computed (:meth:`~l2obench.objectives.problem.QuadraticDatafit.gradient_step`);
        'auto' picks the Gram form when n < 2m.
    restart : bool
        O'Donoghue–Candès gradient restart of the momentum, per row (with ``accelerated``).
    """

    def __init__(self, accelerated=False, step=1.0, form="auto", restart=False):
        self.accelerated = accelerated
        self.step = step
        self.form = form
        self.restart = restart

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming the bad one); returns self."""
        check_choice("accelerated", self.accelerated, (False, True))
        check_real("step", self.step, low=0.0, low_open=True)
        check_choice("form", self.form, FORMS)
        check_choice("restart", self.restart, (False, True))
        return self

    def solve(self, problem, X, lmbd, n_iter, z0=None, callback=None):
        """Run ``n_iter`` iterations from ``z0`` (default 0); returns Z (B, n).

        ``callback(k, z)``, if given, is called after each iteration k = 1..n_iter (``z`` is
        a buffer the solver reuses: copy it to keep it); returning ``True`` stops the solver.
        """
        self.check()
        n_iter = check_int("n_iter", n_iter, low=0)
        X, lam, z = problem.check_inputs(X, lmbd, z0)
        penalty = problem.penalty
        alpha = self.step / problem.datafit.lipschitz
        thresh = lam * alpha
        if getattr(penalty, "weights", None) is None and bool((thresh == thresh[0]).all()):
            thresh = float(thresh[0])  # one threshold for all: a single fused softshrink
        affine = problem.datafit.gradient_step(X, alpha, self.form)
        prox_state = penalty.prox_state()
        # preallocated buffers: at B·n ≈ 10⁶ fresh allocations cost as much as the element-wise work
        u, z_new = torch.empty_like(z), torch.empty_like(z)
        y = z.clone() if self.accelerated else z
        t = torch.ones(z.shape[0], 1, dtype=z.dtype) if self.restart else 1.0
        with torch_threads(1 if penalty.single_threaded else None):
            for it in range(n_iter):
                prox_grad_step(y, affine, penalty.prox, thresh, out=z_new, buf=u, state=prox_state)
                if self.accelerated:
                    t = momentum(z, z_new, y, t, self.restart)
                    z, z_new = z_new, z
                else:
                    z, z_new = z_new, z
                    y = z
                if callback is not None and callback(it + 1, z) is True:
                    break
        return z
