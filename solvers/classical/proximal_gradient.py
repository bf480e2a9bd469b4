r"""Proximal gradient (ISTA, FISTA, restarted FISTA): one implementation for every problem.

For a problem :math:`F_x(z) = f(z; x) + \lambda g(z)` of :mod:`l2obench.objectives.problem`,
with step :math:`\alpha = s / L`, :math:`L = \|A\|_2^2` (one :math:`L_i` per row when the data term
holds one operator per row, :mod:`l2obench.objectives.batched`),

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
from l2obench.solvers.classical.fused_fista import FusedStep, fusable
from l2obench.solvers.threads import torch_threads

FORMS = ("auto", "gram", "residual")
BLOCK_BYTES = 1 << 20  # a block's iterates, buffers and signals: well inside a core's L2 cache
WEIGHT_BYTES = 1 << 20  # larger step weights are re-read from memory by every block: no blocks
MIN_BLOCK_ROWS = 64  # below this the products lose efficiency and Python's per-call cost shows


def block_rows(Z, X, budget=None):
    """Rows per block for :meth:`ProximalGradient.solve`: the block's five (·, n) tensors (iterates,
    extrapolation, gradient-step buffer, bias) and two (·, m) ones (signals, residual) fit in
    ``budget`` bytes (default :data:`BLOCK_BYTES`), at least :data:`MIN_BLOCK_ROWS`; the whole
    batch when the step's weights (n × min(n, 2m)) would not stay in cache, or off the CPU (a
    GPU wants the whole batch). The blocks are made equal (a small last block runs its products
    at a lower rate)."""
    (B, n), m, size = Z.shape, X.shape[1], Z.element_size()
    if Z.device.type != "cpu" or size * n * min(n, 2 * m) > WEIGHT_BYTES:
        return B
    rows = max(MIN_BLOCK_ROWS, (BLOCK_BYTES if budget is None else budget) // (size * (5 * n + 2 * m)))
    # blocks of equal size (256 rows: 2 × 128, not 186 + 70), none below MIN_BLOCK_ROWS
    n_blocks = max(1, min(-(-B // rows), B // MIN_BLOCK_ROWS))
    return -(-B // n_blocks)


def prox_grad_step(Z, forward, prox, thresh, out=None, buf=None, state=None):
    r"""One proximal-gradient step, :math:`\mathrm{prox}_\theta(\mathrm{forward}(Z))`: the step every
    classical, unrolled and implicit mode runs (ARCHITECTURE.md, "One step, three modes").

    Parameters
    ----------
    Z : Tensor (B, n)
    forward : callable ``forward(Z, out=None)``
        The gradient step: the data term's :meth:`~l2obench.objectives.problem.QuadraticDatafit.gradient_step`
        (classical), or :class:`~l2obench.objectives.problem.GramForward` /
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
    if restart:  # t = 1 on the uphill rows: β = 0 there
        uphill = ((y - z_new) * (z_new - z)).sum(dim=1, keepdim=True) > 0
        t_new, beta = extrapolation_weight(torch.where(uphill, torch.ones_like(t), t))
        torch.addcmul(z_new, beta, z_new - z, out=y)
        return t_new
    t_new, beta = extrapolation_weight(t)
    torch.lerp(z, z_new, 1 + beta, out=y)
    return t_new


def extrapolation_weight(t):
    r"""FISTA's :math:`t_{k+1} = (1 + \sqrt{1 + 4t_k^2}) / 2` and :math:`\beta_k = (t_k - 1) / t_{k+1}`
    (floats, or (B, 1) tensors: one per row with restart)."""
    t_new = (1 + (math.sqrt(1 + 4 * t * t) if isinstance(t, float) else torch.sqrt(1 + 4 * t * t))) / 2
    return t_new, (t - 1) / t_new


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

    # runs on problems with one operator per row (a per-row step 1/L_i): benchopt adapters do not skip it
    per_instance = True

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
        # L is a float, or a (B, 1) tensor when the data term holds one operator per row
        alpha = self.step / problem.datafit.lipschitz
        thresh = lam * alpha
        if getattr(penalty, "weights", None) is None and bool((thresh == thresh[0]).all()):
            thresh = float(thresh[0])  # one threshold for all: a single fused softshrink
        prox_state = penalty.prox_state()
        # one operator per row: no cache reuse across rows for blocks to gain, so no row blocking
        whole = callback is not None or prox_state is not None or getattr(problem.datafit, "per_instance", False)
        rows = z.shape[0] if whole else block_rows(z, X)
        with torch_threads(1 if penalty.single_threaded else None):
            if rows >= z.shape[0]:
                return self._iterate(problem, X, thresh, z, alpha, n_iter, prox_state, callback)
            # rows are independent problems: solve them block by block, each block's iterates
            # staying in cache over all its iterations (the element-wise passes then cost little)
            for start in range(0, z.shape[0], rows):
                block = slice(start, start + rows)
                z[block] = self._iterate(problem, X[block], thresh if isinstance(thresh, float) else
                                         thresh[block], z[block], alpha, n_iter, None, None)
        return z

    def _iterate(self, problem, X, thresh, z, alpha, n_iter, prox_state, callback):
        """The iterations on one block of rows (``z`` is overwritten)."""
        affine = problem.datafit.gradient_step(X, alpha, self.form)
        prox = problem.penalty.prox
        # preallocated buffers: at B·n ≈ 10⁶ fresh allocations cost as much as the element-wise work
        u = torch.empty_like(z)
        y = z.clone() if self.accelerated else z
        t = torch.ones(z.shape[0], 1, dtype=z.dtype, device=z.device) if self.restart else 1.0
        # the same step and extrapolation with the element-wise work in one compiled pass, where exact
        fused = (FusedStep(affine, thresh, y, z, buf=u) if self.accelerated and not self.restart
                 and fusable(affine, problem.penalty, thresh, z) else None)
        z_new = None if fused is not None else torch.empty_like(z)
        for it in range(n_iter):
            if fused is not None:
                t, beta = extrapolation_weight(t)
                fused(beta)  # z ← z_{k+1} in place
            else:
                prox_grad_step(y, affine, prox, thresh, out=z_new, buf=u, state=prox_state)
                if self.accelerated:
                    t = momentum(z, z_new, y, t, self.restart)
                else:
                    y = z_new
                z, z_new = z_new, z
            if callback is not None and callback(it + 1, z) is True:
                break
        return z
