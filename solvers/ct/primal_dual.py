r"""Learned primal-dual reconstruction (Adler & Öktem, IEEE TMI 2018).

An unrolled primal-dual scheme in which both proximal steps are small residual CNNs. With the
operator scaled to norm one, :math:`K = A / \|A\|`, and the data scaled alike,
:math:`g = d / \|A\|` (so that :math:`K x^\star \approx g`), iteration :math:`i = 1, \dots, I` reads

.. math::

    h_i = h_{i-1} + \Gamma_i\big(h_{i-1}, K f^{(2)}_{i-1}, g\big), \qquad
    f_i = f_{i-1} + \Lambda_i\big(f_{i-1}, K^\top h^{(1)}_i\big),

with dual memory :math:`h \in \mathbb R^{n_d \times m}` (channels on the
``n_angles × n_detectors`` sinogram image), primal memory :math:`f \in \mathbb R^{n_p \times n}`
(channels on the N × N image), zero dual memory and, by default, every primal channel started at
the FBP image (``start='fbp'``; ``'zero'`` is the paper's zero start, which needs far more training
than a CPU budget gives: at 64 × 64, 100 Adam steps left it 3 × worse than FBP), and output
:math:`f^{(1)}_I`. As in the authors' code the operator reads the second primal channel and the
adjoint the first dual channel (the first one when ``n_primal = 1``). Each :math:`\Gamma_i`,
:math:`\Lambda_i` is conv 3×3 → PReLU → conv 3×3 → PReLU → conv 3×3 with ``width`` hidden
channels and per-channel PReLU slopes; weights are not shared between iterations. Fitted by
:func:`l2obench.solvers.fit.fit` on pairs :math:`(d, x^\star)`; back-propagation goes through
:math:`A` and :math:`A^\top`.
"""
import torch
from torch import nn

from l2obench.objectives.validation import check_choice, check_int
from l2obench.solvers.ct.unet import inference
from l2obench.solvers.params import HyperParams


def _block(c_in, c_out, width):
    """The residual update of one primal or dual step (3×3 convolutions, 'same' padding)."""
    return nn.Sequential(nn.Conv2d(c_in, width, 3, padding=1), nn.PReLU(width),
                         nn.Conv2d(width, width, 3, padding=1), nn.PReLU(width),
                         nn.Conv2d(width, c_out, 3, padding=1))


class LearnedPrimalDual(HyperParams, nn.Module):
    """Adler & Öktem's learned primal-dual network.

    Parameters
    ----------
    n_iterations : int
        Unrolled iterations :math:`I` (each with its own primal and dual blocks).
    n_primal, n_dual : int
        Memory channels of the primal (image) and dual (sinogram) iterates.
    width : int
        Hidden channels of each block.
    start : {'fbp', 'zero'}
        Initial primal memory: the FBP image in every channel, or zeros (the paper).
    """

    def __init__(self, n_iterations=10, n_primal=5, n_dual=5, width=32, start="fbp"):
        super().__init__()
        self.n_iterations = check_int("n_iterations", n_iterations, low=1)
        self.n_primal = check_int("n_primal", n_primal, low=1)
        self.n_dual = check_int("n_dual", n_dual, low=1)
        self.width = check_int("width", width, low=1)
        self.start = check_choice("start", start, ("fbp", "zero"))

    def build(self, problem):
        """Create the blocks for ``problem`` (a CTProblem) and store the operator norm ‖A‖."""
        self.problem_ = problem
        self.opnorm_ = float(problem.projector.norm())
        if not self.opnorm_ > 0:
            raise ValueError(f"the projector's norm must be positive, got {self.opnorm_}.")
        dtype = problem.dtype
        self.dual_ = nn.ModuleList(_block(self.n_dual + 2, self.n_dual, self.width)
                                   for _ in range(self.n_iterations)).to(dtype)
        self.primal_ = nn.ModuleList(_block(self.n_primal + 1, self.n_primal, self.width)
                                     for _ in range(self.n_iterations)).to(dtype)
        return self

    def forward(self, d, n_iter=None):
        """Reconstructions (B, n) of measurements ``d`` (B, m) after ``n_iter`` (default all) iterations."""
        n_iter = self.n_iterations if n_iter is None else min(n_iter, self.n_iterations)
        proj, (N, _) = self.problem_.projector, self.problem_.image_shape
        geom = proj.geometry
        sino = (geom.n_angles, geom.n_detectors)
        B, scale = d.shape[0], 1.0 / self.opnorm_
        g = (d * scale).reshape(B, 1, *sino)
        f = d.new_zeros(B, self.n_primal, N, N)
        if self.start == "fbp":
            f = f + proj.fbp(d).reshape(B, 1, N, N)
        h = d.new_zeros(B, self.n_dual, *sino)
        read = min(1, self.n_primal - 1)  # the primal channel the operator reads
        for i in range(n_iter):
            Kf = proj.apply(f[:, read].reshape(B, -1)) * scale
            h = h + self.dual_[i](torch.cat([h, Kf.reshape(B, 1, *sino), g], dim=1))
            KTh = proj.adjoint(h[:, 0].reshape(B, -1)) * scale
            f = f + self.primal_[i](torch.cat([f, KTh.reshape(B, 1, N, N)], dim=1))
        return f[:, 0].reshape(B, -1)

    def solve(self, d, n_iter=None):
        """No-grad reconstruction in eval mode after ``min(n_iter, n_iterations)`` iterations."""
        if n_iter is not None:
            check_int("n_iter", n_iter, low=0)
        return inference(self, self.problem_.check_data(d), n_iter)

    def trained_depth(self):
        return self.n_iterations

    def lr_groups(self, params):
        return list(params)
