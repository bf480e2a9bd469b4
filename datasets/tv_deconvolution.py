r"""Seeded generators for 1-D TV deconvolution (Cherkaoui, Sulam & Moreau, NeurIPS 2020).

* :func:`make_fmri_like` — voxel-like BOLD series: piecewise-constant neural activity (block
  and event designs, random onsets, durations and amplitudes) convolved with the canonical
  double-gamma HRF (:func:`canonical_hrf`) through a Toeplitz matrix, plus Gaussian noise at a
  set SNR. It stands in for the UK Biobank data of the paper (250 frames, TR = 0.735 s).
* :func:`make_tv_synthetic` — the paper's simulation: Gaussian measurements of signals whose
  increments are sparse (length 8, 5 measurements by default).

Both take ``test_set``: ``'in-distribution'`` (default) draws the test split from the training
law; ``'shifted'`` draws it from a shifted law (:func:`shifted_tv_synthetic`,
:func:`shifted_fmri_like`: the one definition of each shift) and leaves everything else bit for
bit as it is: the operator ``H`` and the training split come from the same random stream as the
in-distribution data (the in-distribution test split is drawn as before, then replaced by a
draw from the same generator continued), so a learned solver trained on one is the training
cache's hit for the other, and only the test split differs ("trained here, tested there").

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
TEST_SETS = ("in-distribution", "shifted")


def shifted_tv_synthetic(p_jump, noise):
    """The shifted test law of :func:`make_tv_synthetic`: ``(p_jump, noise)`` → twice each, ``p_jump`` capped at 1.

    Denser jumps (0.3 → 0.6 by default: 4.2 instead of 2.1 jumps expected over the 7 increments of
    the paper's length-8 signals) take the signals out of the sparsity a learned solver adapts
    its thresholds and steps to, while staying piecewise constant (so the TV model itself still
    fits); twice the noise (0.1 → 0.2) moves the residuals the learned weights see. H is kept: a
    learned solver is trained for one operator, and another H is another problem, not a shift.
    With ``p_jump = 1`` and ``noise = 0`` nothing is left to shift (the law is the training one).
    """
    return min(2.0 * p_jump, 1.0), 2.0 * noise


SHIFTED_DESIGN = {"block": "event", "event": "block", "mixed": "event"}
SNR_DROP_DB = 7.0  # noise power ×5: the default 10 dB becomes 3 dB


def shifted_fmri_like(design, snr):
    """The shifted test law of :func:`make_fmri_like`: ``(design, snr)`` → the other design, ``snr`` − 7 dB.

    A block-design training set is tested on event-related series and the reverse (short bursts
    against long plateaus: another activity prior, with the same HRF); a mixed one (half of each)
    on event-related series only, the harder half (short bursts are what the HRF blurs most).
    The SNR drops by 7 dB (10 → 3 dB by default, noise power ×5), as in noisier voxels or shorter
    acquisitions. The HRF, hence H, is kept (the operator the solvers were trained for).
    """
    return SHIFTED_DESIGN[design], snr - SNR_DROP_DB


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
                    dtype="float64", test_set="in-distribution"):
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
    check_choice("test_set", test_set, TEST_SETS)


def make_fmri_like(n_train=2000, n_test=1000, n_times=250, design="mixed", snr=10.0, tr=0.735,
                   hrf_frames=20, seed=0, dtype="float64", test_set="in-distribution"):
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
    test_set : {'in-distribution', 'shifted'}
        The law of the test split: the training one, or :func:`shifted_fmri_like` (the other
        design, 7 dB less SNR); ``H`` and the training split are the same for both.
    """
    check_fmri_like(n_train, n_test, n_times, design, snr, tr, hrf_frames, seed, dtype, test_set)
    torch_dtype = check_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    H = convolution_matrix(canonical_hrf(tr=tr, n_times=hrf_frames), n_times)
    Z = neural_activity(rng, n_train + n_test, n_times, design)
    X = _bold(rng, Z, H, snr)
    if test_set == "shifted":  # the same stream, continued: H and the training split unchanged
        shifted_design, shifted_snr = shifted_fmri_like(design, snr)
        Z[n_train:] = neural_activity(rng, n_test, n_times, shifted_design)
        X[n_train:] = _bold(rng, Z[n_train:], H, shifted_snr)
    return _split(H, X, Z, n_train, torch_dtype)


def _bold(rng, Z, H, snr):
    """``Z Hᵀ`` plus Gaussian noise at ``snr`` dB per series."""
    clean = Z @ H.T
    power = np.maximum((clean ** 2).mean(axis=1, keepdims=True), 1e-12)
    return clean + rng.standard_normal(clean.shape) * np.sqrt(power / 10 ** (snr / 10))


def check_tv_synthetic(n_train, n_test, n_dim, n_measurements, p_jump=0.3, noise=0.1, seed=0, dtype="float64",
                       test_set="in-distribution"):
    """The checks of :func:`make_tv_synthetic`, without generating data."""
    for name, value in (("n_train", n_train), ("n_test", n_test), ("n_dim", n_dim),
                        ("n_measurements", n_measurements)):
        check_int(name, value, low=1)
    check_real("p_jump", p_jump, low=0.0, high=1.0)
    check_real("noise", noise, low=0.0)
    check_int("seed", seed, low=0)
    check_dtype("dtype", dtype)
    check_choice("test_set", test_set, TEST_SETS)


def make_tv_synthetic(n_train=1000, n_test=1000, n_dim=8, n_measurements=5, p_jump=0.3, noise=0.1,
                      seed=0, dtype="float64", test_set="in-distribution"):
    r"""The paper's simulation: :math:`x = Hz + \varepsilon` with Gaussian H and TV-sparse z.

    ``z = L u`` with ``u_0 ~ N(0, 1)`` and increments ``u_k`` Bernoulli(``p_jump``)–Gaussian;
    ``H`` has i.i.d. N(0, 1/m) entries; ε ~ N(0, noise² / m) per entry. ``test_set='shifted'``
    draws the test split with :func:`shifted_tv_synthetic` (twice the jumps, twice the noise);
    ``H`` and the training split are the same for both test sets.
    """
    check_tv_synthetic(n_train, n_test, n_dim, n_measurements, p_jump, noise, seed, dtype, test_set)
    torch_dtype = check_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((n_measurements, n_dim)) / np.sqrt(n_measurements)
    X, Z = _tv_signals(rng, H, n_train + n_test, p_jump, noise)
    if test_set == "shifted":  # the same stream, continued: H and the training split unchanged
        X[n_train:], Z[n_train:] = _tv_signals(rng, H, n_test, *shifted_tv_synthetic(p_jump, noise))
    return _split(H, X, Z, n_train, torch_dtype)


def _tv_signals(rng, H, n_samples, p_jump, noise):
    """``(X, Z)``: Bernoulli(``p_jump``)–Gaussian increments integrated, measured by ``H`` with noise."""
    n_measurements, n_dim = H.shape
    U = rng.standard_normal((n_samples, n_dim)) * (rng.random((n_samples, n_dim)) < p_jump)
    U[:, 0] = rng.standard_normal(n_samples)
    Z = np.cumsum(U, axis=1)
    X = Z @ H.T + noise / np.sqrt(n_measurements) * rng.standard_normal((n_samples, n_measurements))
    return X, Z


def _split(H, X, Z, n_train, dtype):
    t = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
    return TVData(H=t(H), X_train=t(X[:n_train]), Z_train=t(Z[:n_train]), X_test=t(X[n_train:]),
                  Z_test=t(Z[n_train:]))
