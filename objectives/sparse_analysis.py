r"""Sparse analysis with a learned transform: metrics and certificates.

Problem (Heaton & Wu Fung, "Explainable AI via Learning to Optimize", Sci. Rep. 2023):
:math:`\min_x \|\Theta x\|_1` s.t. :math:`Ax = d`. Every function is batched over the rows of
``x`` (B, n) and returns one value per sample unless said otherwise.

**Certificates** (same paper). Each inference gets, per property, a label from where its value
falls in the distribution of that property over the model's *training* inferences (the
calibration set): **pass** at or below the 68th percentile, **warning** in (68th, 95th],
**fail** above the 95th percentile. Fail follows the paper; the 68 % band (one standard
deviation of a Gaussian) is our choice for warning, so that in distribution about 68 / 27 / 5 %
of the inferences pass / warn / fail, and a shift shows as a larger fail rate. Properties:
*fidelity* :math:`\|Ax - d\|/\|d\|` (floored at float32 rounding, :data:`FEASIBLE_RESIDUAL`)
and *regulariser* :math:`\|\tilde\Theta x\|_1` with :math:`\tilde\Theta = \Theta/\|\Theta\|_2`
the solver's own transform (the identity for a solver without one). The paper's box-constraint
certificate does not apply: :math:`x` is free.
"""
import math

import torch

from l2obench.objectives.certificates import LABELS, certificate_rates, certificate_thresholds, certify  # noqa: F401
from l2obench.objectives.metrics import relative_error
from l2obench.objectives.problem import AnalysisL1, on_device
from l2obench.objectives.validation import check_estimate_shape, check_real, check_tensor

PROPERTIES = ("fidelity", "regulariser")


class SparseAnalysisProblem:
    r""":math:`\min_x \|\Theta x\|_1` s.t. :math:`Ax = d`, in the problem interface.

    The penalty is :class:`~l2obench.objectives.problem.AnalysisL1` (:math:`K = \Theta`, no prox:
    splitting methods only); the constraint operator is ``A`` (m, n), underdetermined.

    Parameters
    ----------
    A : Tensor, shape (m, n)
    theta : Tensor, shape (p, n), optional
        The transform (default: the identity, basis pursuit).

    ``A`` and ``theta`` are float32 / float64, finite and not all zero (``theta`` is cast to A's dtype).
    """

    def __init__(self, A, theta=None):
        A = check_tensor("A", A, ndim=2)
        m, n = A.shape
        if m >= n:
            raise ValueError(f"A must be underdetermined (m < n), got shape {tuple(A.shape)}.")
        _check_nonzero("A", A)
        self.A = A
        self.penalty = AnalysisL1(torch.eye(n, dtype=A.dtype) if theta is None else _transform(theta, n, A.dtype))

    @property
    def shape(self):
        return tuple(self.A.shape)

    def check_data(self, d):
        """Validate measurements ``d`` (B, m): finite, a non-empty batch, A's dtype."""
        d = check_tensor("d", d)
        m = self.A.shape[0]
        if d.ndim != 2 or d.shape[1] != m:
            raise ValueError(f"d must have shape (B, {m}), got {tuple(d.shape)}.")
        if d.shape[0] == 0:
            raise ValueError("d must hold at least one measurement vector (got an empty batch).")
        return d.to(self.A.dtype)

    @property
    def dtype(self):
        return self.A.dtype

    def value(self, x):
        return self.penalty.value(x)

    # the constraint Ax = d in the form the splitting methods take it (solvers/classical/linearized_admm.py)
    def constraint(self, d):
        """``(apply, adjoint, target, radius)`` of the constraint :math:`Ax = d` (radius None: equality)."""
        A = self.A
        return (lambda x: x @ A.T), (lambda v: v @ A), d, None

    def constraint_norm(self):
        """:math:`\\|A\\|_2` (computed once)."""
        if not hasattr(self, "_constraint_norm"):
            self._constraint_norm = float(torch.linalg.matrix_norm(self.A, 2))
        return self._constraint_norm

    def initial_estimate(self, d):
        """The minimum-norm solution :math:`A^+ d` (the pseudo-inverse computed once)."""
        if not hasattr(self, "_pinv"):
            self._pinv = torch.linalg.pinv(self.A)
        return d @ self._pinv.T

    def project_primal(self, x):
        return x   # x is free

    def analysis_operator(self):
        """The fixed transform Θ of the classical solver."""
        return self.penalty.K

    def to_output(self, x):
        return x

    def fingerprint_tensors(self):
        return [self.A, self.penalty.K]

    def to(self, device):
        """The same problem with ``A`` and Θ on ``device``."""
        return self if on_device(self.A, device) else \
            SparseAnalysisProblem(self.A.to(device), self.penalty.K.to(device))


def _check_nonzero(name, matrix):
    if not bool((matrix != 0).any()):
        raise ValueError(f"{name} is all zero (shape {tuple(matrix.shape)}).")
    return matrix


def _transform(theta, n, dtype):
    """``theta`` (p, n) checked: finite, not all zero, in ``dtype``."""
    return _check_nonzero("theta", check_tensor("theta", theta, ndim=2, shape=(None, n), dtype=dtype))


def _batch(name, x, n, dtype=None):
    """A non-empty (B, n) batch."""
    x = check_tensor(name, x, ndim=2, shape=(None, n), dtype=dtype)
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample (got an empty batch).")
    return x


def normalized_transform(theta, n, dtype):
    """:math:`\\Theta/\\|\\Theta\\|_2`, or the identity when ``theta`` is None."""
    if theta is None:
        return torch.eye(n, dtype=dtype)
    theta = _transform(theta, n, dtype)
    return theta / torch.linalg.matrix_norm(theta, 2)


def analysis_l1(x, theta):
    """Problem value :math:`\\|\\Theta x\\|_1`."""
    theta = check_tensor("theta", theta, ndim=2)
    return (_batch("x", x, theta.shape[1], theta.dtype) @ theta.T).abs().sum(1)


def constraint_violation(x, A, d):
    """Relative residual of the constraint, :math:`\\|Ax - d\\| / \\|d\\|` (a zero row of ``d`` is an error)."""
    A = check_tensor("A", A, ndim=2)
    x = _batch("x", x, A.shape[1], A.dtype)
    d = check_tensor("d", d, ndim=2, shape=(x.shape[0], A.shape[0]), dtype=A.dtype)
    norms = d.norm(dim=1)
    if not bool((norms > 0).all()):
        raise ValueError("d has an all-zero row: its relative constraint violation is undefined.")
    return (x @ A.T - d).norm(dim=1) / norms


def sparsity(x, theta, rel_tol=1e-2):
    """Fraction of entries of :math:`\\Theta x` with :math:`|\\cdot| \\le` ``rel_tol`` :math:`\\|\\Theta x\\|_\\infty`."""
    check_real("rel_tol", rel_tol, low=0.0)
    theta = check_tensor("theta", theta, ndim=2)
    x = _batch("x", x, theta.shape[1], theta.dtype)
    ax = (x @ theta.T).abs()
    return (ax <= rel_tol * ax.amax(1, keepdim=True)).to(x.dtype).mean(1)


# a relative residual below this is feasible up to float32 rounding (eps 1.2e-7 times the
# conditioning of A): the fidelity certificate treats such residuals as equal (they pass), so
# that an exactly feasible solver (least squares) is not labelled by its rounding noise, which
# differs from one CPU's kernels to another's
FEASIBLE_RESIDUAL = 1e-5


def properties(x, A, d, theta):
    """Per-sample values of the certified properties (fidelity floored at :data:`FEASIBLE_RESIDUAL`)."""
    return {"fidelity": constraint_violation(x, A, d).clamp_min(FEASIBLE_RESIDUAL),
            "regulariser": analysis_l1(x, theta)}


def evaluate(x, x_true, A, d, theta=None, calibration=None, prefix=""):
    """All metrics of one split; ``calibration = (x_cal, d_cal)`` adds certificate rates.

    A result with NaN or Inf entries is flagged (``diverged=True``) with NaN metrics; bad
    references (``x_true``, ``A``, ``d``, the calibration pair), mismatched shapes or an empty
    batch are a ``ValueError`` naming the argument.
    """
    keys = ["rel_error", "constraint_violation", "regulariser", "sparsity"]
    keys += [f"cert_{p}_{lab}" for p in PROPERTIES for lab in LABELS] if calibration else []
    A = check_tensor("A", A, ndim=2)
    x_true = _batch("x_true", x_true, A.shape[1], A.dtype)
    check_estimate_shape("x", x, x_true.shape)
    check_tensor("d", d, ndim=2, shape=(x_true.shape[0], A.shape[0]))
    if calibration is not None:
        x_cal, d_cal = calibration
        check_estimate_shape("x_cal", x_cal, (_batch("d_cal", d_cal, A.shape[0]).shape[0], A.shape[1]))
    finite = bool(torch.isfinite(x).all())
    if calibration is not None:
        finite = finite and bool(torch.isfinite(calibration[0]).all())
    if not finite:
        return {"diverged": True, **{prefix + k: math.nan for k in keys}}
    theta = normalized_transform(theta, A.shape[1], x.dtype)
    out = {"rel_error": relative_error(x, x_true).mean(),
           "constraint_violation": constraint_violation(x, A, d).mean(),
           "regulariser": analysis_l1(x, theta).mean(), "sparsity": sparsity(x, theta).mean()}
    if calibration is not None:
        x_cal, d_cal = calibration
        ref, now = properties(x_cal, A, d_cal, theta), properties(x, A, d, theta)
        for p in PROPERTIES:
            rates = certificate_rates(certify(now[p], certificate_thresholds(ref[p])))
            out.update({f"cert_{p}_{lab}": rates[lab] for lab in LABELS})
    return {"diverged": False, **{prefix + k: float(v) for k, v in out.items()}}
