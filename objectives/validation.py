"""Input checks shared by objectives, datasets and solvers.

Every check raises ``ValueError`` with a message that names the parameter and says what is
allowed, so that a bad configuration fails before any work is done.
"""
import math
from numbers import Integral, Real

import numpy as np
import torch


def check_choice(name, value, allowed):
    """Return ``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; choose one of {sorted(map(str, allowed))}.")
    return value


def check_int(name, value, *, low=None, high=None):
    """Return ``value`` as an int in ``[low, high]`` (bounds optional)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    _check_range(name, value, low, high)
    return int(value)


def check_real(name, value, *, low=None, high=None, low_open=False):
    """Return ``value`` as a finite float in ``[low, high]`` (``(low, high]`` if ``low_open``)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    if low_open and low is not None and value <= low:
        raise ValueError(f"{name} must be > {low}, got {value!r}.")
    _check_range(name, value, low, high)
    return float(value)


def _check_range(name, value, low, high):
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}.")


FLOAT_DTYPES = (torch.float32, torch.float64)  # the suite computes in these two only


def check_tensor(name, value, *, ndim=None, shape=None, dtype=None):
    """Return ``value`` as a finite float32 / float64 torch tensor with ``ndim`` dims and the given shape.

    ``shape`` may hold ``None`` for free dimensions. ``dtype`` converts first (an integer array
    becomes that float dtype); without it, float16, bfloat16, integer, boolean and complex
    tensors are rejected (torch and LAPACK would fail on them, or silently truncate). NaN or Inf
    entries are rejected, since they would silently propagate through every solver.
    """
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor or numpy array, got {type(value).__name__}.")
    if dtype is not None:
        value = value.to(dtype)
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(value.shape)}.")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(value.shape, shape)):
            if want is not None and got != want:
                raise ValueError(
                    f"{name} has shape {tuple(value.shape)}: dimension {axis} must be {want}, got {got}."
                )
    if value.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be float32 or float64, got {value.dtype}.")
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} contains NaN or Inf entries.")
    return value


def check_dtype(name, value):
    """Map 'float32' / 'float64' (or a torch dtype) to a torch floating dtype."""
    allowed = {"float32": torch.float32, "float64": torch.float64}
    if isinstance(value, torch.dtype) and value in allowed.values():
        return value
    return allowed[check_choice(name, value, allowed)]


def lambda_column(lmbd, n_samples, dtype):
    """λ as a (B, 1) tensor from a float, a (B,) or a (B, 1) tensor: the one λ helper of the suite.

    Rejects negative or non-finite values, naming ``lmbd``.
    """
    if isinstance(lmbd, (torch.Tensor, np.ndarray)) and lmbd.ndim == 2 and lmbd.shape[1:] == (1,):
        lmbd = lmbd.reshape(-1)
    if isinstance(lmbd, (torch.Tensor, np.ndarray)) and lmbd.ndim > 0:
        lmbd = check_tensor("lmbd", lmbd, ndim=1, shape=(n_samples,), dtype=dtype)
        if bool((lmbd < 0).any()):
            raise ValueError("lmbd must be >= 0 for every sample.")
        return lmbd[:, None]
    if isinstance(lmbd, (torch.Tensor, np.ndarray)):
        lmbd = lmbd.item()
    lmbd = check_real("lmbd", lmbd, low=0.0)
    if dtype.is_floating_point and lmbd > torch.finfo(dtype).max:  # torch.full would raise a RuntimeError
        raise ValueError(f"lmbd={lmbd!r} is too large for {dtype}.")
    return torch.full((n_samples, 1), lmbd, dtype=dtype)


def check_estimate_shape(name, x, shape):
    """A solver's output: a tensor of the expected shape (its values may be NaN: flagged, not an error)."""
    if not isinstance(x, torch.Tensor) or tuple(x.shape) != tuple(shape):
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a tensor of shape {tuple(shape)}, got {got}.")
