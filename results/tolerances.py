"""Regression tolerances: the one place that says how far a metric may move from its baseline.

A value passes when ``|new − baseline| <= atol + rtol · |baseline|`` (NaN matches NaN only).
The tolerance depends on what kind of metric it is (its *category*, from its name) and on how
the row was computed (its *precision class*): a classical solver evaluated in float64 or
float32, or a learned solver (whose weights come out of a training run) in float64 or float32.
Times (``time_s``, ``train_time``, ``time_to_best``) and memory are never compared: they measure the machine.

Why these numbers. On the same machine and torch build every quick run is bit-identical (the
reproducibility test checks it), so any slack is for another CPU (other BLAS kernels, other
summation order) and must stay far below the effect of a real bug: halving a step size or
skipping training moves the compared metrics by 10 % or more at the small budgets we keep.
"""
import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class Tol:
    rtol: float
    atol: float

    def __str__(self):
        if self.rtol == 0 and self.atol == 0:
            return "exact"
        parts = ([f"rtol={self.rtol:g}"] if self.rtol else []) + ([f"atol={self.atol:g}"] if self.atol else [])
        return " ".join(parts)


EXACT = Tol(0.0, 0.0)
CLASSES = ("classical-float64", "classical-float32", "learned-float64", "learned-float32")

TOLERANCES = {
    # Objective values, suboptimality, relative errors, NMSE (linear), constraint violation.
    "relative": {
        # float64, no training: only the summation order differs across machines (~1e-16 per
        # operation, a few hundred operations deep at budget <= 10); atol for values near 0.
        "classical-float64": Tol(rtol=1e-9, atol=1e-12),
        # float32 iterates (eps 6e-8): last-bit differences amplified by <= 10 non-expansive
        # iterations stay near 1e-6; 1e-4 is a 100x margin, 1000x below a halved step size.
        "classical-float32": Tol(rtol=1e-4, atol=1e-7),
        # a float64 training run of a few hundred Adam steps: rounding differences grow through
        # the non-convex training but stay tiny in float64.
        "learned-float64": Tol(rtol=1e-6, atol=1e-10),
        # float32 training on another CPU drifts: ~0.1 % for most, 1.7 % seen for L2O-PA's
        # 20-step training on an AVX-512 machine; skipped or broken training moves these metrics
        # by 10 % or more.
        "learned-float32": Tol(rtol=3e-2, atol=1e-6),
    },
    # NMSE in dB: an absolute tolerance in dB (0.0434 dB = 1 % in linear NMSE).
    "db": {
        "classical-float64": Tol(rtol=0.0, atol=1e-7),
        "classical-float32": Tol(rtol=0.0, atol=1e-3),
        "learned-float64": Tol(rtol=0.0, atol=1e-4),
        "learned-float32": Tol(rtol=0.0, atol=0.05),
    },
    # Fractions over the test instances (support precision/recall, sparsity, certificate pass
    # rates, optimal paths found): one instance crossing a threshold moves them by 1/n_test
    # (1/64 to 1/256 in the quick configs). float64 classical rows are exact up to rounding; float32 may flip one
    # instance; learned float32 a few.
    "rate": {
        "classical-float64": Tol(rtol=0.0, atol=1e-9),
        "classical-float32": Tol(rtol=0.0, atol=0.02),
        "learned-float64": Tol(rtol=0.0, atol=0.02),
        "learned-float32": Tol(rtol=0.0, atol=0.05),
    },
    # A constraint residual (relative ||Ax - d|| / ||d||): an exactly feasible float32 solution
    # (least squares, the start of ADMM) sits at rounding level, ~1e-6, whose digits depend on the
    # CPU's kernels (seen: 8.4e-7 on one machine, 7.0e-7 on another); above that, as "relative".
    "residual": {
        "classical-float64": Tol(rtol=1e-9, atol=1e-12),
        "classical-float32": Tol(rtol=1e-4, atol=1e-6),
        "learned-float64": Tol(rtol=1e-6, atol=1e-10),
        "learned-float32": Tol(rtol=1e-2, atol=1e-6),
    },
    # A data-fit ratio of a reconstruction (CT's ||Ax - d|| / delta): for a learned model at the
    # quick budgets it amplifies the training's rounding drift several-fold (ct's implicit L2O,
    # 30 float32 steps: 5.4 % between two CI machines at the same commit, while its relative error
    # moved 1.2 %); training that is skipped or broken moves the error metrics beside it.
    "fidelity": {
        "classical-float64": Tol(rtol=1e-9, atol=1e-12),
        "classical-float32": Tol(rtol=1e-4, atol=1e-7),
        "learned-float64": Tol(rtol=1e-6, atol=1e-10),
        "learned-float32": Tol(rtol=1e-1, atol=1e-6),
    },
    # Counts and flags (parameter count, trained depth, divergence): exact on every machine.
    "exact": {c: EXACT for c in CLASSES},
    # The certified duality gap of the float64 reference solve: it only has to stay below the
    # certificate (1e-10 relative); its exact value depends on the summation order.
    "certificate": {c: Tol(rtol=0.0, atol=1e-7) for c in CLASSES},
}

# metric name (shell pattern, first match wins; an out-of-distribution ``shift_`` prefix is
# ignored) → category. A metric matching nothing is compared as "relative".
CATEGORY = [
    ("n_params", "exact"), ("trained_depth", "exact"), ("diverged", "exact"), ("train_diverged", "exact"),
    ("*_db", "db"),
    ("support_*", "rate"), ("sparsity", "rate"), ("cert_*", "rate"), ("path_accuracy", "rate"),
    ("fallback_rate", "rate"),
    ("reference_gap", "certificate"), ("constraint_violation", "residual"), ("fidelity", "fidelity"),
    ("*", "relative"),
]

# never compared: they measure the machine, not the algorithm
NOT_COMPARED = {"time_s", "train_time", "time_to_best", "peak_memory", "n_repetitions"}


def category(metric):
    """Category of a metric name (see ``CATEGORY``)."""
    name = metric.removeprefix("shift_")
    return next(cat for pattern, cat in CATEGORY if fnmatch.fnmatchcase(name, pattern))


def precision_class(learned, dtype):
    """``"learned-float32"`` etc.; an unknown or missing dtype counts as float32 (the looser)."""
    kind = "learned" if learned else "classical"
    return f"{kind}-{'float64' if str(dtype) == 'float64' else 'float32'}"


def tolerance(metric, learned, dtype):
    """The :class:`Tol` for ``metric`` on a row with the given ``learned`` flag and dtype."""
    return TOLERANCES[category(metric)][precision_class(learned, dtype)]
