r"""FISTA's element-wise work after the products, in one compiled pass (CPU, ℓ1).

An iteration of FISTA on the Lasso is its products and then, element by element,

.. math:: z_{k+1} = \mathrm{ST}(v, \theta), \qquad y_{k+1} = z_{k+1} + \beta_k(z_{k+1} - z_k),

with :math:`v = b + y_kW` in the Gram form (:class:`~l2obench.objectives.problem.GramForward`,
:math:`b = xW_x`) and :math:`v = y_k - \alpha\,(y_kA^\top - x)A` in the residual form
(:class:`~l2obench.objectives.problem.ResidualForward`). Written with torch kernels this is
three passes over the (B, n) block after the last product (``addmm`` copying its bias into its
output, ``softshrink``, ``lerp``), each with its dispatch cost; here the last product writes
:math:`u = y_kW` or :math:`u = (y_kA^\top - x)A` and one numba loop reads :math:`u`, :math:`b`
or :math:`y_k`, and :math:`z_k` once and writes :math:`z_{k+1}, y_{k+1}` over :math:`z_k` and
:math:`u` (Gram form) or :math:`y_k` (residual form)
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

        # z and the product's output are overwritten in place: three arrays touched instead of
        # five, and every write goes to a line just read (no read-for-ownership). Measured in one
        # process (float32, one thread): 0.40 against 1.32 ns per element at 256 × 500, 0.63
        # against 1.32 at 2048 × 500: 5–10 % of the product's time saved at the compressed-sensing shapes
        @numba.njit(cache=True, nogil=True)
        def shrink_extrapolate(u, bias, z, thresh, beta):  # Gram form: v = b + u; u ← y_{k+1}
            rows, n = u.shape
            for i in range(rows):
                for j in range(n):
                    v = bias[i, j] + u[i, j]
                    w = v - min(max(v, -thresh[i]), thresh[i])  # soft-thresholding; NaN stays NaN
                    u[i, j] = w + beta * (w - z[i, j])
                    z[i, j] = w

        # residual form: v = y − αu; y ← y_{k+1} (a loop of its own: y read and written through one
        # argument keeps the vectoriser's alias checks simple)
        @numba.njit(cache=True, nogil=True)
        def step_shrink_extrapolate(u, scale, z, thresh, beta, y):
            rows, n = u.shape
            for i in range(rows):
                for j in range(n):
                    v = y[i, j] + scale * u[i, j]
                    w = v - min(max(v, -thresh[i]), thresh[i])
                    y[i, j] = w + beta * (w - z[i, j])
                    z[i, j] = w

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
    """``step(beta)``: one FISTA iteration on the solver's own buffers ``y``, ``z`` and ``buf``
    (all (B, n), C-contiguous): ``z`` overwritten with :math:`z_{k+1}`, the extrapolated point
    :math:`y_{k+1}` kept inside. The Gram form writes its product into the spare buffer and its
    pass turns it into :math:`y_{k+1}`, so that the buffer of :math:`y_k` becomes the next spare;
    the residual form overwrites ``y``. The numpy views are made once (about 2 µs each: a tenth
    of the products' time at the step-size quick shape)."""

    def __init__(self, forward, thresh, y, z, buf):
        self.forward = forward
        gram = isinstance(forward, GramForward)
        # (called under no_grad)
        self.bias = forward.bias.detach().contiguous().numpy() if gram else None
        # scalars in the arrays' dtype, so that float32 is computed in float32, as torch does
        self.scalar = buf.numpy().dtype.type
        self.scale = None if gram else self.scalar(-forward.alpha)
        self.thresh = (torch.full((len(buf),), thresh, dtype=buf.dtype) if isinstance(thresh, float)
                       else thresh.detach().reshape(-1).contiguous()).numpy()
        self.z = z.numpy()
        self.y, self.spare = (y, y.numpy()), (buf, buf.numpy())  # each tensor with its view
        self.gram_kernel, self.residual_kernel = _kernel()

    def __call__(self, beta):
        beta = self.scalar(beta)
        (y, y_np), (u, u_np) = self.y, self.spare
        if self.bias is not None:  # u = yW, v = b + u
            torch.mm(y, self.forward.W, out=u)
            self.gram_kernel(u_np, self.bias, self.z, self.thresh, beta)
            self.y, self.spare = self.spare, self.y
        else:  # u = (yAᵀ − x)A, v = y − αu
            torch.mm(self.forward.residual(y), self.forward.A, out=u)
            self.residual_kernel(u_np, self.scale, self.z, self.thresh, beta, y_np)
