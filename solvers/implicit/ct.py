r"""The implicit L2O model of CT (Heaton & Wu Fung, "Explainable AI via Learning to Optimize", 2023).

.. math:: N_\Theta(d) = \operatorname*{argmin}_{x \in [0,1]^n} f_\Omega(Kx) \quad\text{s.t.}\quad \|Ax - d\| \le \delta,

with :math:`K` a learned convolution (1 → C channels, 3 × 3, no bias; :math:`K^\top` the matching
transposed convolution, an exact adjoint), the prox of :math:`f_\Omega` a CNN, and
:math:`\delta = e^{\tilde\delta}\|d\|` with :math:`\tilde\delta` learned (starting at −5, as their
code). The forward pass is the linearized-ADMM fixed point of the suite's operator
(:class:`~l2obench.solvers.classical.linearized_admm.LinearizedADMMOperator`, the same step as the
TV-min solver with :math:`K = \nabla`, :math:`f = \|\cdot\|_1`), solved to ``tol`` or ``depth``
iterations; the backward pass JFB (one attached step), IFT or unrolled
(:class:`~l2obench.solvers.implicit.fixed_point.FixedPointLayer`). Fitted by
:func:`l2obench.solvers.fit.fit` on pairs :math:`(d, x^\star)` with the MSE loss.

:math:`K` enters the operator divided by :math:`(\sum_c \|k_c\|_1^2)^{1/2} \ge \|K\|_2` (detached;
Young's inequality), so the step-size condition of the operator holds whatever is learned.

Two learned proxes (``prox``):

``'residual'``
    blocks :math:`p \mapsto p + \mathrm{LeakyReLU}_{0.1}(\mathrm{Conv}_{5\times5}(p))`, as the
    paper's code (xai-l2o ``src/models.py``). Nothing bounds its Lipschitz constant, so the operator
    need not have a fixed point: at 128² and depth 200 it had none (relative residual 1.3 at every
    iteration, NaN by 128; ``benchmarks/ct/README.md``) and JFB, whose gradient assumes one, stalled.
``'averaged'``
    :math:`\tfrac12(I + N)` with :math:`N` a composition of blocks
    :math:`p \mapsto p - W^\top \sigma(Wp + b)`, :math:`W` a 5 × 5 convolution scaled to
    :math:`\|W\|_2 \le 1` and :math:`\sigma` = LeakyReLU(0.1). Each block is a gradient step of
    step 1 on the convex :math:`\sum_i \psi((Wp + b)_i)` (:math:`\psi' = \sigma`, slopes in
    [0.1, 1]) whose gradient is :math:`\|W\|^2`-Lipschitz, hence nonexpansive; their composition
    is nonexpansive, and :math:`\tfrac12(I + N)` firmly nonexpansive: the resolvent of a maximally
    monotone operator (Minty), which is what the linearized-ADMM convergence argument uses of a prox.
    Same parameter count as ``'residual'``.
"""
import torch
import torch.nn.functional as F
from torch import nn

from l2obench.objectives.validation import check_choice, check_int, check_real
from l2obench.solvers.classical.linearized_admm import LinearizedADMMOperator
from l2obench.solvers.implicit.fixed_point import FixedPointModel


def conv_norm_bound(weight):
    """An upper bound of the operator norm of a convolution with ``weight`` (C_out, C_in, k, k), any padding:
    the spectral norm of the matrix of the kernels' l1 norms (Young's inequality per channel pair, then
    the triangle inequality), detached."""
    return torch.linalg.matrix_norm(weight.detach().abs().sum((2, 3)), 2)


class ConvAnalysis(nn.Module):
    """Learned analysis operator :math:`K`: a 3 × 3 convolution 1 → ``channels``, normalised to norm <= 1."""

    def __init__(self, channels, image_shape, kernel_size=3):
        super().__init__()
        self.image_shape, self.channels, self.pad = tuple(image_shape), channels, kernel_size // 2
        self.n_out = channels * self.image_shape[0] * self.image_shape[1]
        self.weight = nn.Parameter(torch.empty(channels, 1, kernel_size, kernel_size))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)   # Conv2d's default initialisation

    def normalized(self):
        return self.weight / conv_norm_bound(self.weight).clamp_min(1e-12)

    def operators(self):
        w, (h, wd), c, pad = self.normalized(), self.image_shape, self.channels, self.pad
        return (lambda x: F.conv2d(x.reshape(-1, 1, h, wd), w, padding=pad).reshape(x.shape[0], -1),
                lambda v: F.conv_transpose2d(v.reshape(-1, c, h, wd), w, padding=pad).reshape(v.shape[0], -1))


class ResidualProx(nn.Module):
    """The learned prox of :math:`f_\\Omega`: ``n_blocks`` residual blocks p + LeakyReLU(0.1)(Conv(p))."""

    def __init__(self, channels, image_shape, n_blocks=3, kernel_size=5):
        super().__init__()
        self.image_shape, self.channels = tuple(image_shape), channels
        self.convs = nn.ModuleList(nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2)
                                   for _ in range(n_blocks))

    def forward(self, v, lam=None):   # lam: the step of prox_{lam h}, absorbed in the learned weights
        p = v.reshape(-1, self.channels, *self.image_shape)
        for conv in self.convs:
            p = p + F.leaky_relu(conv(p), 0.1)
        return p.reshape(v.shape[0], -1)


class AveragedProx(ResidualProx):
    r"""A firmly nonexpansive learned prox: :math:`\tfrac12(p + N(p))`, :math:`N` ``n_blocks`` gradient-step
    blocks :math:`p - W^\top\mathrm{LeakyReLU}_{0.1}(Wp + b)` with :math:`\|W\|_2 \le 1` (module doc).
    The parameters of :class:`ResidualProx` (same count, same initialisation), used another way."""

    def forward(self, v, lam=None):   # lam: absorbed in the learned weights, as for ResidualProx
        p0 = v.reshape(-1, self.channels, *self.image_shape)
        p = p0
        for conv in self.convs:
            # scaled only when above 1 (detached, as ConvAnalysis): smaller weights stay learnable
            w = conv.weight / conv_norm_bound(conv.weight).clamp_min(1.0)
            p = p - F.conv_transpose2d(F.leaky_relu(F.conv2d(p, w, conv.bias, padding=conv.padding), 0.1), w,
                                       padding=conv.padding)
        return (0.5 * (p0 + p)).reshape(v.shape[0], -1)


PROXES = {"residual": ResidualProx, "averaged": AveragedProx}


class LearnedRadius(nn.Module):
    """:math:`\\delta = e^{\\tilde\\delta}\\|d\\|`, in the scaled units of the problem's constraint."""

    def __init__(self, problem, log_delta0):
        super().__init__()
        self.scale = problem.projector.norm()
        self.log_delta = nn.Parameter(torch.tensor(float(log_delta0), dtype=problem.dtype))

    def forward(self, d):
        return self.log_delta.exp() * d.norm(dim=1, keepdim=True) / self.scale


class ImplicitCT(FixedPointModel):
    """Implicit L2O model for CT: learned :math:`K`, prox of :math:`f_\\Omega` and :math:`\\delta`.

    Parameters
    ----------
    channels : int
        Channels :math:`C` of :math:`Kx` (the paper's model: 59,697 parameters).
    n_blocks : int
        Blocks of the prox.
    prox : {'residual', 'averaged'}
        The learned prox (module doc): the paper's residual CNN, or a firmly nonexpansive one with
        the same parameter count.
    log_delta0 : float
        Initial :math:`\\tilde\\delta` (−5 in their code).
    backward : {'jfb', 'ift', 'unrolled'}
    depth : int
        Iteration cap of the forward solve (200 in their code).
    tol : float
        Relative residual at which the forward solve stops (1e-3 in their code).
    alpha, beta, lam : float
        Step sizes of the operator (on the normalised operators: alpha*beta*2 < 1, alpha*lam <= 1);
        ``beta='auto'`` is 0.9/(2 alpha).
    forward_solver : {'plain', 'anderson'}
    """

    def __init__(self, channels=8, n_blocks=3, prox="residual", log_delta0=-5.0, backward="jfb", depth=200, tol=1e-3,
                 alpha=1.0, beta="auto", lam=1.0, forward_solver="plain"):
        super().__init__()
        self.channels = check_int("channels", channels, low=1)
        self.n_blocks = check_int("n_blocks", n_blocks, low=0)
        self.prox = check_choice("prox", prox, tuple(PROXES))
        self.log_delta0 = check_real("log_delta0", log_delta0, high=0.0)
        self.check_solve_parameters(backward, depth, tol, forward_solver)
        self.alpha, self.beta, self.lam = alpha, beta, lam

    def make_operator(self, problem):
        shape = problem.image_shape
        return LinearizedADMMOperator(problem, ConvAnalysis(self.channels, shape), alpha=self.alpha, beta=self.beta,
                                      lam=self.lam, prox=PROXES[self.prox](self.channels, shape, self.n_blocks),
                                      radius=LearnedRadius(problem, self.log_delta0))

    def build(self, problem):
        super().build(problem)
        return self.to(problem.dtype)

    def solve(self, d, n_iter=None):
        """The forward solve (to ``tol``, at most ``depth`` iterations), or ``min(n_iter, depth)`` plain
        iterations: the model is its depth-capped solve, as trained. With ``prox='residual'`` nothing makes
        the operator converge, and iterating past the depth drifts away (at 64 x 64 in the quick config:
        relative error 0.12 at the depth of 20, 2.4 at 160, NaN by 320 on Shepp-Logan); with
        ``'averaged'`` the cap only bounds the cost."""
        return super().solve(d, None if n_iter is None else min(n_iter, self.depth))

    def delta(self, d):
        """The learned noise bound :math:`\\delta(d)` (B,), in the measurements' units."""
        return (self.operator_.radius(d) * self.operator_.radius.scale).squeeze(1)
