r"""Seeded generators for 1-D TV deconvolution (Cherkaoui, Sulam & Moreau, NeurIPS 2020).

* :func:`make_fmri_like` — voxel-like BOLD series: piecewise-constant neural activity (block
  and event designs, random onsets, durations and amplitudes) convolved with the canonical
  double-gamma HRF (:func:`canonical_hrf`) through a Toeplitz matrix, plus Gaussian noise at a
  set SNR. It stands in for the UK Biobank data of the paper (250 frames, TR = 0.735 s).
* :func:`make_tv_synthetic` — the paper's simulation: Gaussian measurements of signals whose
  increments are sparse (length 8, 5 measurements by default).

All draws come from ``np.random.default_rng(seed)``; returned arrays are torch tensors. Each
generator's parameter checks are a function of their own (``check_*``), which the benchopt
adapters call when benchopt creates the data set, before any data is generated.
"""
from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import toeplitz
from scipy.stats import gamma

from l2obench.objectives.validation import check_choice, check_dtype, check_int, check_real

DESIGNS = ("block", "event", "mixed")


@dataclass
class TVData:
    """A train/test split sharing the operator ``H`` (m, n); ``Z_*`` are the ground truths."""

    H: torch.Tensor
    X_train: torch.Tensor
    Z_train: torch.Tensor
    X_test: torch.Tensor
    Z_test: torch.Tensor

    def as_dict(self):
        return dict(H=self.H, X_train=self.X_train, Z_train=self.Z_train, X_test=self.X_test, Z_test=self.Z_test)


def canonical_hrf(tr=0.735, n_times=20, peak=6.0, undershoot=16.0, ratio=0.167):
    r"""SPM's canonical double-gamma HRF sampled every ``tr`` seconds, unit ℓ2 norm.

    .. math:: h(t) = \Gamma_{pdf}(t; a=\text{peak}) - \text{ratio}\,\Gamma_{pdf}(t; a=\text{undershoot})

    (gamma densities of unit scale, so the shape parameters are the delays in seconds).
    """
    check_real("tr", tr, low=0.0, low_open=True)
    check_int("n_times", n_times, low=1)
    check_real("peak", peak, low=0.0, low_open=True)
    check_real("undershoot", undershoot, low=0.0, low_open=True)
    check_real("ratio", ratio, low=0.0)
    t = np.arange(n_times) * tr
    h = gamma.pdf(t, a=peak) - ratio * gamma.pdf(t, a=undershoot)
    return h / np.linalg.norm(h)


def convolution_matrix(h, n):
    """Causal Toeplitz matrix H (n, n) with ``(Hz)_t = sum_k h_k z_{t-k}`` (output cut to n frames)."""
    col = np.zeros(n)
    k = min(len(h), n)
    col[:k] = h[:k]
    return toeplitz(col, np.zeros(n))


def neural_activity(rng, n_samples, n_times, design="mixed", n_blocks=(2, 5), n_events=(3, 8)):
    """Piecewise-constant activity (n_samples, n_times) drawn from ``rng``.

    Block design: a few long plateaus (10–40 frames); event design: short bursts (1–3 frames).
    'mixed' draws one of the two per series. Amplitudes are uniform in [0.5, 2] with a random
    sign for events, onsets uniform.
    """
    Z = np.zeros((n_samples, n_times))
    kinds = np.where(rng.random(n_samples) < 0.5, "block", "event") if design == "mixed" else np.full(n_samples, design)
    for i, kind in enumerate(kinds):  # generation only: per-series designs of random length
        if kind == "block":
            count = rng.integers(n_blocks[0], n_blocks[1] + 1)
            lengths = rng.integers(10, 41, size=count)
            amps = rng.uniform(0.5, 2.0, size=count)
        else:
            count = rng.integers(n_events[0], n_events[1] + 1)
            lengths = rng.integers(1, 4, size=count)
            amps = rng.uniform(0.5, 2.0, size=count) * rng.choice([-1.0, 1.0], size=count)
        onsets = rng.integers(0, n_times, size=count)
        for onset, length, amp in zip(onsets, lengths, amps):
            Z[i, onset:onset + length] = amp
    return Z


def check_fmri_like(n_train, n_test, n_times, design="mixed", snr=10.0, tr=0.735, hrf_frames=20, seed=0,
                    dtype="float64"):
    """The checks of :func:`make_fmri_like`, without generating data (``ValueError`` naming the parameter)."""
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        check_int(name, value, low=1)
    check_int("n_times", n_times, low=2)
    check_choice("design", design, DESIGNS)
    check_real("snr", snr)
    check_real("tr", tr, low=0.0, low_open=True)
    check_int("hrf_frames", hrf_frames, low=1)  # canonical_hrf would call it n_times
    check_int("seed", seed, low=0)
    check_dtype("dtype", dtype)


def make_fmri_like(n_train=2000, n_test=1000, n_times=250, design="mixed", snr=10.0, tr=0.735,
                   hrf_frames=20, seed=0, dtype="float64"):
    """fMRI-like deconvolution data: ``X = Z Hᵀ + noise`` with the canonical HRF.

    Parameters
    ----------
    n_train, n_test : int
        Number of voxel-like series in each split.
    n_times : int
        Frames per series (250 in the paper's UK Biobank data).
    design : {'block', 'event', 'mixed'}
    snr : float
        Signal-to-noise ratio in dB, per series: σ² = mean((Hz)²) / 10^(snr/10).
    tr : float
        Repetition time in seconds.
    hrf_frames : int
        Length of the sampled HRF (20 frames).
    seed : int
    dtype : {'float32', 'float64'}
    """
    check_fmri_like(n_train, n_test, n_times, design, snr, tr, hrf_frames, seed, dtype)
    torch_dtype = check_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    H = convolution_matrix(canonical_hrf(tr=tr, n_times=hrf_frames), n_times)
    Z = neural_activity(rng, n_train + n_test, n_times, design)
    clean = Z @ H.T
    power = np.maximum((clean ** 2).mean(axis=1, keepdims=True), 1e-12)
    X = clean + rng.standard_normal(clean.shape) * np.sqrt(power / 10 ** (snr / 10))
    return _split(H, X, Z, n_train, torch_dtype)


def check_tv_synthetic(n_train, n_test, n_dim, n_measurements, p_jump=0.3, noise=0.1, seed=0, dtype="float64"):
    """The checks of :func:`make_tv_synthetic`, without generating data."""
    for name, value in (("n_train", n_train), ("n_test", n_test), ("n_dim", n_dim),
                        ("n_measurements", n_measurements)):
        check_int(name, value, low=1)
    check_real("p_jump", p_jump, low=0.0, high=1.0)
    check_real("noise", noise, low=0.0)
    check_int("seed", seed, low=0)
    check_dtype("dtype", dtype)


def make_tv_synthetic(n_train=1000, n_test=1000, n_dim=8, n_measurements=5, p_jump=0.3, noise=0.1,
                      seed=0, dtype="float64"):
    r"""The paper's simulation: :math:`x = Hz + \varepsilon` with Gaussian H and TV-sparse z.

    ``z = L u`` with ``u_0 ~ N(0, 1)`` and increments ``u_k`` Bernoulli(``p_jump``)–Gaussian;
    ``H`` has i.i.d. N(0, 1/m) entries; ε ~ N(0, noise² / m) per entry.
    """
    check_tv_synthetic(n_train, n_test, n_dim, n_measurements, p_jump, noise, seed, dtype)
    torch_dtype = check_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((n_measurements, n_dim)) / np.sqrt(n_measurements)
    n_total = n_train + n_test
    U = rng.standard_normal((n_total, n_dim)) * (rng.random((n_total, n_dim)) < p_jump)
    U[:, 0] = rng.standard_normal(n_total)
    Z = np.cumsum(U, axis=1)
    X = Z @ H.T + noise / np.sqrt(n_measurements) * rng.standard_normal((n_total, n_measurements))
    return _split(H, X, Z, n_train, torch_dtype)


def _split(H, X, Z, n_train, dtype):
    t = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
    return TVData(H=t(H), X_train=t(X[:n_train]), Z_train=t(Z[:n_train]), X_test=t(X[n_train:]),
                  Z_test=t(Z[n_train:]))
