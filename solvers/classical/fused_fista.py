r"""FISTA's element-wise work after the product, in one compiled pass (CPU, Gram form, ℓ1).

In the Gram form an iteration of FISTA on the Lasso is one product :math:`u = y_kW` and then,
element by element,

.. math:: z_{k+1} = \mathrm{ST}(b + u, \theta), \qquad y_{k+1} = z_{k+1} + \beta_k(z_{k+1} - z_k),

with :math:`b = xW_x` the bias of :class:`~l2obench.objectives.problem.GramForward`. Written with
torch kernels this is three passes over the (B, n) block (the bias copied into the product's
output by ``addmm``, ``softshrink``, ``lerp``), each with its dispatch cost; here it is one numba
loop that reads :math:`u, b, z_k` once and writes :math:`z_{k+1}, y_{k+1}`
(``benchmarks/lasso/speed.py`` measures the gain; ARCHITECTURE.md, *Classical algorithms,
written once*). The values are those of
:func:`~l2obench.solvers.classical.proximal_gradient.prox_grad_step` then
:func:`~l2obench.solvers.classical.proximal_gradient.momentum` up to rounding (the extrapolation
is written :math:`z_{k+1} + \beta(z_{k+1} - z_k)` rather than torch's ``lerp``);
``tests/solvers/classical/test_fused_fista.py`` checks it.

It applies only where it is exact and pays (:func:`fusable`): a CPU tensor outside autograd, a
Gram-form step, one threshold for all or one per row (soft-thresholding, no per-coordinate
weights), FISTA without restart. numba is imported on first use (about 0.3 s); compiled code is
cached on disk.
"""
import torch

from l2obench.objectives.problem import GramForward, L1Penalty

_KERNEL = None


def _kernel():
    """The compiled loop (numba imported and the function jitted on first use)."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(cache=True, nogil=True)
        def shrink_extrapolate(u, bias, z, thresh, beta, z_new, y):
            rows, n = u.shape
            for i in range(rows):
                for j in range(n):
                    v = u[i, j] + bias[i, j]
                    w = v - min(max(v, -thresh[i]), thresh[i])  # soft-thresholding; NaN stays NaN
                    z_new[i, j] = w
                    y[i, j] = w + beta * (w - z[i, j])

        _KERNEL = shrink_extrapolate
    return _KERNEL


def fusable(forward, penalty, thresh, z):
    """Whether the fused pass computes this FISTA step exactly: see the module docstring."""
    if not (isinstance(forward, GramForward) and type(penalty) is L1Penalty and penalty.weights is None
            and (isinstance(thresh, float) or (isinstance(thresh, torch.Tensor) and thresh.shape == (len(z), 1)))):
        return False
    tensors = (forward.bias, forward.W, z) + ((thresh,) if isinstance(thresh, torch.Tensor) else ())
    return (all(t.device.type == "cpu" and t.dtype == z.dtype for t in tensors)
            and z.dtype in (torch.float32, torch.float64) and z.is_contiguous()
            and not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors)))


class FusedStep:
    """``step(y, z, z_new, beta)``: :math:`u = yW` into ``buf``, then the fused pass, writing
    ``z_new`` and ``y`` in place (all (B, n), C-contiguous, the solver's own buffers)."""

    def __init__(self, forward, thresh, buf):
        self.W, self.bias = forward.W, forward.bias.detach().contiguous()  # (called under no_grad)
        self.u = buf
        # scalars in the arrays' dtype, so that float32 is computed in float32, as torch does
        self.scalar = self.bias.numpy().dtype.type
        self.thresh = (torch.full((len(buf),), thresh, dtype=buf.dtype) if isinstance(thresh, float)
                       else thresh.detach().reshape(-1).contiguous()).numpy()
        self.kernel = _kernel()

    def __call__(self, y, z, z_new, beta):
        torch.mm(y, self.W, out=self.u)
        self.kernel(self.u.numpy(), self.bias.numpy(), z.numpy(), self.thresh, self.scalar(beta), z_new.numpy(),
                    y.numpy())
