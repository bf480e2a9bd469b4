r"""FISTA's element-wise work after the products, in one compiled pass (CPU, ℓ1).

An iteration of FISTA on the Lasso is its products and then, element by element,

.. math:: z_{k+1} = \mathrm{ST}(v, \theta), \qquad y_{k+1} = z_{k+1} + \beta_k(z_{k+1} - z_k),

with :math:`v = b + y_kW` in the Gram form (:class:`~l2obench.objectives.problem.GramForward`,
:math:`b = xW_x`) and :math:`v = y_k - \alpha\,(y_kA^\top - x)A` in the residual form
(:class:`~l2obench.objectives.problem.ResidualForward`). Written with torch kernels this is
three passes over the (B, n) block after the last product (``addmm`` copying its bias into its
output, ``softshrink``, ``lerp``), each with its dispatch cost; here the last product writes
:math:`u = y_kW` or :math:`u = (y_kA^\top - x)A` and one numba loop reads :math:`u`, :math:`b`
or :math:`y_k`, and :math:`z_k` once and writes :math:`z_{k+1}, y_{k+1}`
(``benchmarks/lasso/speed.py`` measures the gain; ARCHITECTURE.md, *Classical algorithms,
written once*). The values are those of
:func:`~l2obench.solvers.classical.proximal_gradient.prox_grad_step` then
:func:`~l2obench.solvers.classical.proximal_gradient.momentum` up to rounding (the extrapolation
is written :math:`z_{k+1} + \beta(z_{k+1} - z_k)` rather than torch's ``lerp``);
``tests/solvers/classical/test_fused_fista.py`` checks it.

It applies only where it is exact and pays (:func:`fusable`): a CPU tensor outside autograd, the
data term's own gradient step in either form, one threshold for all or one per row
(soft-thresholding, no per-coordinate weights), FISTA without restart. numba is imported on
first use (about 0.3 s); compiled code is cached on disk.
"""
import torch

from l2obench.objectives.problem import GramForward, L1Penalty, ResidualForward

_KERNEL = None


def _kernel():
    """The compiled loop (numba imported and the function jitted on first use)."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(cache=True, nogil=True)
        def shrink_extrapolate(u, bias, z, thresh, beta, z_new, y):  # Gram form: v = b + u
            rows, n = u.shape
            for i in range(rows):
                for j in range(n):
                    v = bias[i, j] + u[i, j]
                    w = v - min(max(v, -thresh[i]), thresh[i])  # soft-thresholding; NaN stays NaN
                    z_new[i, j] = w
                    y[i, j] = w + beta * (w - z[i, j])

        # residual form: v = y − αu, y read and then overwritten (a separate loop: passing y twice
        # as two arguments would defeat the vectoriser's alias checks)
        @numba.njit(cache=True, nogil=True)
        def step_shrink_extrapolate(u, scale, z, thresh, beta, z_new, y):
            rows, n = u.shape
            for i in range(rows):
                for j in range(n):
                    v = y[i, j] + scale * u[i, j]
                    w = v - min(max(v, -thresh[i]), thresh[i])
                    z_new[i, j] = w
                    y[i, j] = w + beta * (w - z[i, j])

        _KERNEL = shrink_extrapolate, step_shrink_extrapolate
    return _KERNEL


def fusable(forward, penalty, thresh, z):
    """Whether the fused pass computes this FISTA step exactly: see the module docstring."""
    if not (isinstance(forward, (GramForward, ResidualForward)) and type(penalty) is L1Penalty
            and penalty.weights is None
            and (isinstance(thresh, float) or (isinstance(thresh, torch.Tensor) and thresh.shape == (len(z), 1)))):
        return False
    weights = (forward.bias, forward.W) if isinstance(forward, GramForward) else (forward.X, forward.A, forward.At)
    tensors = (*weights, z) + ((thresh,) if isinstance(thresh, torch.Tensor) else ())
    return (all(t.device.type == "cpu" and t.dtype == z.dtype for t in tensors)
            and z.dtype in (torch.float32, torch.float64) and z.is_contiguous()
            and not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors)))


class FusedStep:
    """``step(y, z, z_new, beta)``: the last product into ``buf``, then the fused pass, writing
    ``z_new`` and ``y`` in place (all (B, n), C-contiguous, the solver's own buffers)."""

    def __init__(self, forward, thresh, buf):
        self.forward, self.u = forward, buf
        gram = isinstance(forward, GramForward)
        self.bias = forward.bias.detach().contiguous() if gram else None  # (called under no_grad)
        # scalars in the arrays' dtype, so that float32 is computed in float32, as torch does
        self.scalar = buf.numpy().dtype.type
        self.scale = None if gram else self.scalar(-forward.alpha)
        self.thresh = (torch.full((len(buf),), thresh, dtype=buf.dtype) if isinstance(thresh, float)
                       else thresh.detach().reshape(-1).contiguous()).numpy()
        self.gram_kernel, self.residual_kernel = _kernel()

    def __call__(self, y, z, z_new, beta):
        beta = self.scalar(beta)
        if self.bias is not None:  # u = yW, v = b + u
            torch.mm(y, self.forward.W, out=self.u)
            self.gram_kernel(self.u.numpy(), self.bias.numpy(), z.numpy(), self.thresh, beta, z_new.numpy(),
                             y.numpy())
        else:  # u = (yAᵀ − x)A, v = y − αu
            torch.mm(self.forward.residual(y), self.forward.A, out=self.u)
            self.residual_kernel(self.u.numpy(), self.scale, z.numpy(), self.thresh, beta, z_new.numpy(),
                                 y.numpy())
