r"""Sparse-view CT with a noise ball and a box: the problem, its metrics and certificates.

Problem (Heaton & Wu Fung, "Explainable AI via Learning to Optimize", Sci. Rep. 2023, the CT
experiment): reconstruct an image :math:`x \in [0, 1]^n` from noisy parallel-beam measurements
:math:`d = Ax^\star + \varepsilon`; TV-min is

.. math:: \min_x \|\nabla x\|_1 \quad\text{s.t.}\quad \|Ax - d\| \le \delta(d),\quad x \in [0, 1]^n,

with anisotropic TV and :math:`\delta` from the noise level. Noise model (``datasets/ct.py``):
per image, every beam gets Gaussian noise of standard deviation
:math:`\sigma = \eta\,\mathrm{mean}|Ax^\star|` (:math:`\eta = 1.5\,\%`); so
:math:`\|\varepsilon\|^2/\sigma^2 \sim \chi^2_m` and :math:`\delta(d) = \eta\,\mathrm{mean}|d|\,
\sqrt{m + 2\sqrt{2m}}` (the mean of :math:`\chi^2_m` plus two standard deviations, with
:math:`\sigma` estimated from the measurement): the ground truth is feasible for about 98 % of the
measurements. The splitting methods see the constraint with the operator scaled to norm 1
(:math:`A/\|A\|`, :math:`d/\|A\|`, :math:`\delta/\|A\|`: the same set) and the gradient scaled by
:math:`1/\sqrt 8 \ge 1/\|\nabla\|` (the same minimisers), so their step sizes do not depend on the
geometry.

**Metrics** (the same for every solver): PSNR and SSIM (scikit-image, data range 1, per image,
then averaged), relative error, the fidelity ratio :math:`\|Ax - d\|/\delta(d)`, the box
violation :math:`\max_i \mathrm{dist}(x_i, [0, 1])`. **Certificates**
(:mod:`l2obench.objectives.certificates`): *box* and *fidelity* are hard constraints, labelled
against fixed bounds (:data:`FIXED_THRESHOLDS`: pass within rounding of the bound, warning up to
5 % / 0.01 beyond it, fail past that); *regulariser*, the TV of the image, against the solver's
own calibration inferences (68th / 95th percentiles), as in ``sparse_analysis``. The paper's
regulariser certificate of its implicit model uses its learned :math:`f_\Omega(Kx)`; the suite
uses TV for every solver, so that labels are comparable (the learned regulariser has no value,
only a prox).
"""
import math

import numpy as np
import torch

from l2obench.objectives.certificates import LABELS, certificate_rates, certificate_thresholds, certify
from l2obench.objectives.metrics import relative_error
from l2obench.objectives.prox import project_ball, project_box, soft_threshold
from l2obench.objectives.validation import check_estimate_shape, check_real, check_tensor

PROPERTIES = ("box", "fidelity", "regulariser")
# hard constraints: labels against fixed bounds (pass <= first, warning <= second, fail above)
FIXED_THRESHOLDS = {"box": (1e-3, 1e-2), "fidelity": (1.0 + 1e-3, 1.05)}
TV_NORM = math.sqrt(8.0)   # ||grad||_2 <= sqrt(8) for 2-D forward differences


def image_gradient(x, image_shape):
    """Forward differences (B, n) -> (B, 2n): vertical then horizontal, zero on the last row / column."""
    img = x.reshape(x.shape[0], *image_shape)
    dv = torch.zeros_like(img)
    dh = torch.zeros_like(img)
    dv[:, :-1] = img[:, 1:] - img[:, :-1]
    dh[:, :, :-1] = img[:, :, 1:] - img[:, :, :-1]
    return torch.cat([dv.reshape(x.shape[0], -1), dh.reshape(x.shape[0], -1)], dim=1)


def image_gradient_adjoint(v, image_shape):
    """The exact adjoint of :func:`image_gradient` (a negative divergence), (B, 2n) -> (B, n)."""
    n = image_shape[0] * image_shape[1]
    dv, dh = v[:, :n].reshape(-1, *image_shape), v[:, n:].reshape(-1, *image_shape)
    out = torch.zeros_like(dv)
    out[:, 1:] += dv[:, :-1]
    out[:, :-1] -= dv[:, :-1]
    out[:, :, 1:] += dh[:, :, :-1]
    out[:, :, :-1] -= dh[:, :, :-1]
    return out.reshape(v.shape[0], n)


def total_variation(x, image_shape):
    """Anisotropic TV :math:`\\|\\nabla x\\|_1` per image (B,)."""
    return image_gradient(x, image_shape).abs().sum(1)


class ImageGradient(torch.nn.Module):
    """:math:`\\nabla/\\sqrt 8` as the analysis operator of the splitting methods (norm <= 1, no weights)."""

    def __init__(self, image_shape):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.n_out = 2 * self.image_shape[0] * self.image_shape[1]

    def operators(self):
        shape = self.image_shape
        return (lambda x: image_gradient(x, shape) / TV_NORM), (lambda v: image_gradient_adjoint(v, shape) / TV_NORM)


class _TVPenalty:
    """:math:`h = \\|\\cdot\\|_1` on the gradient: its value and the prox the splitting methods take."""

    def __init__(self, image_shape):
        self.image_shape = image_shape

    def value(self, x):
        return total_variation(x, self.image_shape)

    @staticmethod
    def inner_prox(v, thresh):
        return soft_threshold(v, thresh)


class CTProblem:
    r"""TV-min CT in the problem interface: :math:`\min \|\nabla x\|_1` s.t. :math:`\|Ax - d\| \le \delta(d)`, :math:`x \in [0,1]^n`.

    Parameters
    ----------
    projector : Projector
        The operator :math:`A` (:mod:`l2obench.objectives.ct_projector`).
    noise_level : float
        :math:`\eta`, the per-beam noise relative to the mean projection (0.015), > 0.
    """

    input_names = ("d",)

    def __init__(self, projector, noise_level=0.015):
        self.projector = projector
        self.noise_level = check_real("noise_level", noise_level, low=0.0, low_open=True)
        self.shape, self.image_shape = tuple(projector.shape), tuple(projector.image_shape)
        self.penalty = _TVPenalty(self.image_shape)

    @property
    def dtype(self):
        return self.projector.dtype

    def check_data(self, d):
        """Measurements ``d`` (B, m): finite, a non-empty batch, cast to the projector's dtype."""
        d = check_tensor("d", d)
        m = self.shape[0]
        if d.ndim != 2 or d.shape[1] != m:
            raise ValueError(f"d must have shape (B, {m}), got {tuple(d.shape)}.")
        if d.shape[0] == 0:
            raise ValueError("d must hold at least one measurement vector (got an empty batch).")
        return d.to(self.dtype)

    def delta(self, d):
        r"""Noise bound :math:`\delta(d) = \eta\,\mathrm{mean}|d|\sqrt{m + 2\sqrt{2m}}` per measurement (B,)."""
        m = self.shape[0]
        return self.noise_level * d.abs().mean(1) * math.sqrt(m + 2.0 * math.sqrt(2.0 * m))

    def value(self, x):
        return self.penalty.value(x)

    def to_output(self, x):
        return x

    # the splitting methods' view (solvers/classical/linearized_admm.py, pdhg.py)
    def constraint(self, d):
        """``(apply, adjoint, target, radius)`` of :math:`\\|Ax - d\\| \\le \\delta` with :math:`A` scaled to norm 1."""
        s, A = self.projector.norm(), self.projector
        return (lambda x: A.apply(x) / s), (lambda v: A.adjoint(v) / s), d / s, self.delta(d)[:, None] / s

    def constraint_norm(self):
        return 1.0

    def initial_estimate(self, d):
        """FBP clipped to the box."""
        return project_box(self.projector.fbp(d))

    def project_primal(self, x):
        return project_box(x)

    def analysis_operator(self):
        return ImageGradient(self.image_shape)

    def pdhg_splitting(self, d, tau=1.0, z0=None):
        """PDHG on :math:`g = \\iota_{[0,1]^n}`, :math:`K = [\\nabla/\\sqrt8;\\ A/\\|A\\|]`, :math:`h(u, v) =
        \\|u\\|_1 + \\iota_{B(d,\\delta)}(v)` (:math:`\\|K\\|^2 \\le 2`; ``tau`` in units of :math:`1/\\|K\\|`);
        the fields of :class:`l2obench.solvers.classical.pdhg.Splitting`."""
        d = self.check_data(d)
        G, Gt = self.analysis_operator().operators()
        A, At, target, radius = self.constraint(d)
        k = 2 * self.shape[1]
        tau = check_real("tau", tau, low=0.0, low_open=True) / math.sqrt(2.0)
        sigma = 1.0 / (2.0 * tau)

        def dual_prox(v):   # prox of sigma h*: the box of the l1 conjugate; Moreau for the ball
            u, w = v[:, :k], v[:, k:]
            return torch.cat([project_box(u, -1.0, 1.0), w - sigma * project_ball(w / sigma, target, radius)], dim=1)

        z = self.initial_estimate(d) if z0 is None else check_tensor("z0", z0, shape=(d.shape[0], self.shape[1]))
        return dict(K=lambda x: torch.cat([G(x), A(x)], dim=1), Kt=lambda v: Gt(v[:, :k]) + At(v[:, k:]),
                         dual_prox=dual_prox, primal_prox=project_box, tau=tau, sigma=sigma, z=z.to(self.dtype),
                         w=torch.zeros(d.shape[0], k + self.shape[0], dtype=self.dtype, device=d.device))

    def fingerprint_tensors(self):
        return [*self.projector.fingerprint_tensors(), torch.tensor([self.noise_level], dtype=torch.float64)]

    def to(self, device):
        """The same problem with the projector on ``device``."""
        if self.projector.device == torch.device(device):
            return self
        return CTProblem(self.projector.to(device=device), self.noise_level)


def box_violation(x):
    """:math:`\\max_i \\mathrm{dist}(x_i, [0, 1])` per image (B,)."""
    return torch.maximum((x - 1).clamp_min(0), (-x).clamp_min(0)).amax(1)


def fidelity(x, d, problem):
    """:math:`\\|Ax - d\\| / \\delta(d)` per image (B,): at most 1 when the noise constraint holds."""
    return (problem.projector.apply(x.to(problem.dtype)) - d).norm(dim=1) / problem.delta(d)


def properties(x, d, problem):
    """Per-image values of the certified properties."""
    return {"box": box_violation(x), "fidelity": fidelity(x, d, problem),
            "regulariser": total_variation(x, problem.image_shape)}


def certificate_labels(values, calibration, problem):
    """Per-image labels (0 pass, 1 warning, 2 fail) of each property: ``values`` from :func:`properties`,
    ``calibration = (x_cal, d_cal)`` the solver's own inferences on training measurements."""
    x_cal, d_cal = calibration
    ref = properties(x_cal.to(problem.dtype), problem.check_data(d_cal), problem)
    labels = {}
    for p in PROPERTIES:
        thresholds = (torch.tensor(FIXED_THRESHOLDS[p], dtype=torch.float64) if p in FIXED_THRESHOLDS
                      else certificate_thresholds(ref[p].double()))
        labels[p] = certify(values[p].double(), thresholds)
    return labels


def psnr_ssim(x, x_true, image_shape):
    """Per-image PSNR (dB) and SSIM of ``x`` against ``x_true`` (scikit-image, data range 1)."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    est = x.detach().cpu().double().reshape(-1, *image_shape).numpy()
    ref = x_true.detach().cpu().double().reshape(-1, *image_shape).numpy()
    win = min(7, min(image_shape) - (1 - min(image_shape) % 2))   # scikit-image's 7, odd and inside the image
    psnr = np.array([peak_signal_noise_ratio(r, e, data_range=1.0) for r, e in zip(ref, est)])
    ssim = np.array([structural_similarity(r, e, data_range=1.0, win_size=win) for r, e in zip(ref, est)])
    return psnr, ssim


def metric_names(with_certificates=True):
    keys = ["psnr", "ssim", "rel_error", "fidelity", "box_violation"]
    return keys + ([f"cert_{p}_{lab}" for p in PROPERTIES for lab in LABELS] if with_certificates else [])


def evaluate(x, x_true, d, problem, calibration=None, prefix=""):
    """All metrics of one split; ``calibration = (x_cal, d_cal)`` (the solver's inferences on training
    measurements) adds certificate rates. A non-finite result is flagged (``diverged=True``) with NaN
    metrics; bad references or shapes are a ``ValueError`` naming the argument."""
    n, m = problem.shape[1], problem.shape[0]
    x_true = check_tensor("x_true", x_true, ndim=2, shape=(None, n))
    check_estimate_shape("x", x, x_true.shape)
    d = problem.check_data(check_tensor("d", d, ndim=2, shape=(x_true.shape[0], m)))
    finite = bool(torch.isfinite(x).all()) and (calibration is None or bool(torch.isfinite(calibration[0]).all()))
    if not finite:
        return {"diverged": True, **{prefix + k: math.nan for k in metric_names(calibration is not None)}}
    x = x.to(problem.dtype)
    psnr, ssim = psnr_ssim(x, x_true, problem.image_shape)
    now = properties(x, d, problem)
    out = {"psnr": psnr.mean(), "ssim": ssim.mean(), "rel_error": float(relative_error(x, x_true.to(x.dtype)).mean()),
           "fidelity": float(now["fidelity"].mean()), "box_violation": float(now["box"].mean())}
    if calibration is not None:
        for p, labels in certificate_labels(now, calibration, problem).items():
            rates = certificate_rates(labels)
            out.update({f"cert_{p}_{lab}": rates[lab] for lab in LABELS})
    return {"diverged": False, **{prefix + k: float(v) for k, v in out.items()}}
