r"""Signals with a low-dimensional structure measured by an underdetermined matrix.

Setting of Heaton & Wu Fung, "Explainable AI via Learning to Optimize" (Sci. Rep. 2023):
:math:`x^\star = M s^\star \in \mathbb{R}^n` with :math:`s^\star \in \mathbb{R}^r`,
:math:`d = A x^\star` with :math:`A \in \mathbb{R}^{m\times n}`, defaults
:math:`(n, r, m) = (250, 50, 100)`. Here the columns of :math:`M` are unit steps
:math:`M_{ij} = 1[i \ge t_j]` at ``latent_dim`` distinct jump positions :math:`t_j`, so every
:math:`x^\star` is piecewise constant with its jumps at those positions and
:math:`s^\star \sim \mathcal N(0, I)` gives their heights: first differences are a fair analytic
sparsifier, and a learned :math:`\Theta` can do better by learning where the jumps are.
:math:`A` is Gaussian, scaled to :math:`\|A\|_2 = 1`.

The shifted test set (out of distribution) moves every jump by a uniform integer offset in
``[-shift, shift]`` (a different :math:`M'`), keeping :math:`A` and the law of :math:`s^\star`.
The parameter checks are a function of their own (:func:`check_sparse_analysis`), which the
benchopt adapter calls when benchopt creates the data set, before any data is generated.
"""
import numpy as np
import torch

from l2obench.objectives.validation import check_dtype, check_int


def _step_basis(n, jumps):
    return (np.arange(n)[:, None] >= np.asarray(jumps)[None, :]).astype(np.float64)


def _signals(rng, M, n_samples):
    return rng.standard_normal((n_samples, M.shape[1])) @ M.T


def check_sparse_analysis(n, latent_dim, m, n_train, n_val, n_test, shift=3, seed=0, dtype="float64"):
    """The checks of :func:`make_sparse_analysis`, without generating data (``ValueError`` naming the parameter)."""
    n = check_int("n", n, low=2)
    latent_dim = check_int("latent_dim", latent_dim, low=1, high=n - 1)
    m = check_int("m", m, low=1, high=n - 1)
    if latent_dim >= m:
        raise ValueError(f"latent_dim={latent_dim} must be < m={m}: the signal class must be "
                         "identifiable from m measurements.")
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        check_int(name, value, low=1)
    check_int("shift", shift, low=0)
    check_int("seed", seed, low=0)
    check_dtype("dtype", dtype)


def make_sparse_analysis(n=250, latent_dim=50, m=100, n_train=2000, n_val=256, n_test=256,
                         shift=3, seed=0, dtype="float64"):
    """Generate the train / validation / test / shifted-test splits.

    Parameters
    ----------
    n, latent_dim, m : int
        Signal size, latent dimension (number of jumps) and number of measurements,
        with ``latent_dim < m < n``.
    n_train, n_val, n_test : int
        Split sizes; the shifted test set has ``n_test`` samples.
    shift : int
        Largest jump displacement of the shifted test set (0 gives an in-distribution copy).
    seed : int
        Seed of the ``numpy.random.Generator``; the same seed gives the same data.
    dtype : {'float64', 'float32'}

    Returns
    -------
    data : dict
        ``A`` (m, n), ``M`` (n, latent_dim), ``M_shift``; ``d_<split>`` (B, m) and
        ``x_<split>`` (B, n) for split in train, val, test, shift. All torch tensors.
    """
    check_sparse_analysis(n, latent_dim, m, n_train, n_val, n_test, shift, seed, dtype)
    torch_dtype = check_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)

    A = rng.standard_normal((m, n))
    A /= np.linalg.norm(A, 2)
    jumps = np.sort(rng.choice(np.arange(1, n), latent_dim, replace=False))
    moved = np.clip(jumps + rng.integers(-shift, shift + 1, latent_dim), 1, n - 1)
    M, M_shift = _step_basis(n, jumps), _step_basis(n, moved)

    out = {"A": A, "M": M, "M_shift": M_shift}
    for split, size in (("train", n_train), ("val", n_val), ("test", n_test), ("shift", n_test)):
        x = _signals(rng, M_shift if split == "shift" else M, size)
        out[f"x_{split}"], out[f"d_{split}"] = x, x @ A.T
    return {k: torch.as_tensor(v, dtype=torch_dtype) for k, v in out.items()}
