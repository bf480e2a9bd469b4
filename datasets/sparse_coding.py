r"""Sparse-coding data sets for the Lasso, each with a train and a test split.

- :func:`make_compressed_sensing`: the LISTA-CP / ALISTA / HyperLISTA setting (Chen et al.
  2018; Liu et al. 2019; Chen et al. 2021): :math:`A_{ij} \sim N(0, 1/m)` with unit-norm
  columns, :math:`z^\star` Bernoulli(p) × N(0, 1), :math:`x = Az^\star` plus optional noise at
  a given SNR (noise std = std(x)·10^(−SNR/20)); ``test_set='shifted'`` draws the test split with
  a denser support (:func:`shifted_compressed_sensing`), A and the training split unchanged.
- :func:`make_equiregularized`: the step-size setting of Ablin et al. (2019): atoms uniform on
  the sphere, dense Gaussian codes, each signal rescaled so that :math:`\|D^\top x\|_\infty = 1`.
- :func:`load_digits_coding`: scikit-learn's bundled 8×8 digits (no download). Ablin et al.
  used MNIST resized to 8×8, unavailable offline; here atoms are 256 digit images and signals
  are other, disjoint digit images, rescaled the same way. No ground-truth code exists.

Everything is drawn from ``np.random.default_rng(seed)`` and returned as float64 tensors. Each
generator's parameter checks are a function of their own (``check_*``), which the benchopt
adapters call when benchopt creates the data set, before any data is generated.
"""
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits

from l2obench.objectives.validation import check_choice, check_int, check_real

TEST_SETS = ("in-distribution", "shifted")


@dataclass
class SparseCodingData:
    """A dictionary ``D`` (m, n) and signals ``X_*`` (N, m) with codes ``Z_*`` (N, n) or None."""

    D: torch.Tensor
    X_train: torch.Tensor
    Z_train: torch.Tensor | None
    X_test: torch.Tensor
    Z_test: torch.Tensor | None


def _split(D, X, Z, n_train):
    t = lambda a: None if a is None else torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    return SparseCodingData(D=t(D), X_train=t(X[:n_train]), Z_train=t(None if Z is None else Z[:n_train]),
                            X_test=t(X[n_train:]), Z_test=t(None if Z is None else Z[n_train:]))


def shifted_compressed_sensing(p):
    """The shifted test law of :func:`make_compressed_sensing`: the support density ``p`` doubled (capped at 1).

    0.1 → 0.2 by default: 100 instead of 50 non-zeros expected among 500 atoms for 250
    measurements, at the edge of ℓ1 recovery (Donoho–Tanner: about 96 at m/n = 1/2), where the
    thresholds and weights learned on sparser codes are tuned to the wrong support size. A and
    the noise level σ are kept (the same sensor, denser scenes), so the shift is in the codes alone.
    With ``p = 1`` nothing is left to shift.
    """
    return min(2.0 * p, 1.0)


def check_compressed_sensing(n_train, n_test, n_measurements, n_atoms, p, snr=None, seed=0,
                             test_set="in-distribution"):
    """The checks of :func:`make_compressed_sensing`, without generating data (``ValueError`` naming the parameter)."""
    check_int("n_train", n_train, low=1)
    check_int("n_test", n_test, low=1)
    check_int("n_measurements", n_measurements, low=1)
    check_int("n_atoms", n_atoms, low=1)
    check_real("p", p, low=0.0, high=1.0, low_open=True)
    if snr is not None:
        check_real("snr", snr)
    check_int("seed", seed, low=0)
    check_choice("test_set", test_set, TEST_SETS)


def make_compressed_sensing(n_train=51_200, n_test=2_048, n_measurements=250, n_atoms=500, p=0.1,
                            snr=None, seed=0, test_set="in-distribution"):
    """Compressed-sensing Lasso data (m = 250, n = 500, p = 0.1 by default).

    Parameters
    ----------
    snr : float or None
        Signal-to-noise ratio in dB of the measurements; None for noiseless.
    test_set : {'in-distribution', 'shifted'}
        The law of the test split: the training one, or :func:`shifted_compressed_sensing`
        (twice the support density, the same noise σ). ``D`` and the training split are the same
        for both: the in-distribution data are drawn as before, then the test split is replaced
        by a draw from the same generator continued.
    """
    check_compressed_sensing(n_train, n_test, n_measurements, n_atoms, p, snr, seed, test_set)
    m, n = n_measurements, n_atoms
    rng = np.random.default_rng(seed)
    D = rng.normal(0.0, 1.0 / np.sqrt(m), size=(m, n))
    D /= np.linalg.norm(D, axis=0, keepdims=True)
    N = n_train + n_test
    Z = (rng.random((N, n)) < p) * rng.standard_normal((N, n))
    X = Z @ D.T
    std = X.std()  # of the in-distribution measurements: σ is the sensor's, shifted or not
    if snr is not None:
        X = X + rng.standard_normal(X.shape) * std * 10 ** (-snr / 20)
    if test_set == "shifted":  # the same stream, continued: D and the training split unchanged
        Z[n_train:] = (rng.random((n_test, n)) < shifted_compressed_sensing(p)) * rng.standard_normal((n_test, n))
        X[n_train:] = Z[n_train:] @ D.T
        if snr is not None:
            X[n_train:] += rng.standard_normal((n_test, m)) * std * 10 ** (-snr / 20)
    return _split(D, X, Z, n_train)


def _equiregularize(X, Z, D):
    """Rescale each signal (and its code) so that ‖Dᵀx‖∞ = 1, i.e. λ_max = 1."""
    scale = np.abs(X @ D).max(axis=1, keepdims=True)
    return X / scale, (None if Z is None else Z / scale)


def check_equiregularized(n_train, n_test, n_dim, n_atoms, seed=0):
    """The checks of :func:`make_equiregularized`, without generating data."""
    for name, value in (("n_train", n_train), ("n_test", n_test), ("n_dim", n_dim), ("n_atoms", n_atoms)):
        check_int(name, value, low=1)
    check_int("seed", seed, low=0)


def make_equiregularized(n_train=10_000, n_test=10_000, n_dim=64, n_atoms=256, seed=0):
    """Ablin et al. (2019) simulated setting: 64 × 256, λ_max = 1 for every signal."""
    check_equiregularized(n_train, n_test, n_dim, n_atoms, seed)
    m, n = n_dim, n_atoms
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((m, n))
    D /= np.linalg.norm(D, axis=0, keepdims=True)
    Z = rng.standard_normal((n_train + n_test, n))
    X, Z = _equiregularize(Z @ D.T, Z, D)
    return _split(D, X, Z, n_train)


N_DIGITS = 1797  # images in scikit-learn's bundled digits: atoms, train and test signals are disjoint


def check_digits_coding(n_train, n_test, n_atoms, seed=0):
    """The checks of :func:`load_digits_coding`, without loading the images.

    Atoms, training and test signals are disjoint images, so ``n_atoms + n_train + n_test``
    must fit in the 1797 images; the error names the parameter that does not fit (``n_atoms``
    first: it is drawn first).
    """
    n_atoms, n_train, n_test = (check_int(name, value, low=1) for name, value in
                                (("n_atoms", n_atoms), ("n_train", n_train), ("n_test", n_test)))
    for name, value, room in (("n_atoms", n_atoms, N_DIGITS - 2), ("n_train", n_train, N_DIGITS - n_atoms - 1),
                              ("n_test", n_test, N_DIGITS - n_atoms - n_train)):
        if value > room:
            raise ValueError(f"{name}={value} is too large: the {N_DIGITS} digit images are split into disjoint "
                             f"atoms, training and test signals (n_atoms={n_atoms}, n_train={n_train}, "
                             f"n_test={n_test}), which leaves at most {room} for {name}.")
    check_int("seed", seed, low=0)


def load_digits_coding(n_train=1_000, n_test=500, n_atoms=256, seed=0):
    """8×8 digits: 256 digit atoms (unit norm), disjoint digit signals, λ_max = 1."""
    check_digits_coding(n_train, n_test, n_atoms, seed)
    images = load_digits().data.astype(np.float64)
    if images.shape[0] != N_DIGITS:
        raise RuntimeError(f"scikit-learn's digits hold {images.shape[0]} images, not {N_DIGITS}: update N_DIGITS.")
    rng = np.random.default_rng(seed)
    images = images[rng.permutation(images.shape[0])]
    D = images[:n_atoms].T
    D = D / np.linalg.norm(D, axis=0, keepdims=True)
    X, _ = _equiregularize(images[n_atoms:n_atoms + n_train + n_test], None, D)
    return _split(D, X, None, n_train)
