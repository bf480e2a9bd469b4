r"""Random-ellipse phantoms and their noisy parallel-beam sinograms (the ``ct`` family's data).

Setting of the learned CT baselines (Adler & Öktem, "Learned primal-dual reconstruction", IEEE TMI
2018; Jin et al., "Deep convolutional neural network for inverse problems in imaging", IEEE TIP 2017
for the FBP + U-Net): images :math:`x^\star \in [0, 1]^{N\times N}` made of a few random ellipses
with additive intensities, measured by the projector :math:`A` of
:mod:`l2obench.objectives.ct_projector` with 1.5 % Gaussian noise per beam,
:math:`d = Ax^\star + \sigma\varepsilon`, :math:`\sigma = \text{noise\_level}\cdot\text{mean}|Ax^\star|`
per image. The test set is either more ellipses (in distribution) or the Shepp-Logan phantom
(out of distribution: finer structures, low contrast), from scikit-image's bundled copy.

Each split draws from its own generator ``np.random.default_rng([seed, k])`` (k = 0, 1, 2 for
train, validation, test), images first and noise second, so a split never depends on the size or
the kind of another (the train split is bit-identical whatever ``test_set`` or ``n_val``).
"""
import numpy as np

from l2obench.objectives.ct_projector import ParallelBeamGeometry, system_matrix
from l2obench.objectives.validation import check_choice, check_int, check_real

TEST_SETS = ("ellipses", "shepp-logan")
MAX_ELLIPSES = 10
CHUNK = 128   # images rasterised at once


def random_ellipses(n_images, size, rng):
    """``n_images`` phantoms (n_images, size, size), float64 in [0, 1].

    Each image is the sum of 3 to 10 ellipses (half-axes 0.05 to 0.5 of the inscribed radius, any
    orientation, intensities uniform in [0.1, 1], one in four negative so that holes appear, never the first),
    clipped to [0, 1]. Every ellipse lies inside the disk of radius 0.95 (a centre at distance at
    most 0.95 minus the longer half-axis), so the support is inside the inscribed circle.
    Vectorised over images (in chunks; all parameters are drawn first, so chunking never changes
    the draws), with one loop over the (at most 10) ellipse slots.
    """
    n_images = check_int("n_images", n_images, low=1)
    size = check_int("size", size, low=2)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}.")
    count = rng.integers(3, MAX_ELLIPSES + 1, n_images)
    axes = rng.uniform(0.05, 0.5, (2, n_images, MAX_ELLIPSES))
    reach = 0.95 - axes.max(axis=0)
    radius = reach * np.sqrt(rng.uniform(0, 1, (n_images, MAX_ELLIPSES)))   # uniform in the disk
    phase, angle = rng.uniform(0, 2 * np.pi, (2, n_images, MAX_ELLIPSES))
    sign = np.where(rng.uniform(0, 1, (n_images, MAX_ELLIPSES)) < 0.25, -1.0, 1.0)
    sign[:, 0] = 1.0   # the first ellipse adds: no image is all zero (its relative error would be undefined)
    value = sign * rng.uniform(0.1, 1.0, (n_images, MAX_ELLIPSES))
    value[np.arange(MAX_ELLIPSES)[None, :] >= count[:, None]] = 0.0   # unused slots
    cx, cy = radius * np.cos(phase), radius * np.sin(phase)
    # inside <=> u^2 + v^2 <= 1 with (u, v) the rotated offsets over the half-axes: a quadratic form
    # in (dx, dy), whose square terms are separable (one image row / column each)
    c, s = np.cos(angle), np.sin(angle)
    ia, ib = axes[0] ** -2.0, axes[1] ** -2.0
    qxx, qyy, qxy = c * c * ia + s * s * ib, s * s * ia + c * c * ib, 2 * c * s * (ia - ib)
    grid = (np.arange(size) - (size - 1) / 2) / (size / 2)   # x of the columns, -y of the rows
    images = np.zeros((n_images, size, size))
    for start in range(0, n_images, CHUNK):   # bounded temporaries (2000 images of 128^2: 262 MB each)
        part = slice(start, start + CHUNK)
        for e in range(MAX_ELLIPSES):
            dx = grid[None, None, :] - cx[part, e, None, None]
            dy = -grid[None, :, None] - cy[part, e, None, None]
            inside = qxx[part, e, None, None] * dx ** 2 + qyy[part, e, None, None] * dy ** 2 \
                + (qxy[part, e, None, None] * dx) * dy <= 1.0
            images[part] += value[part, e, None, None] * inside
    return np.clip(images, 0.0, 1.0, out=images)


def shepp_logan(size):
    """The Shepp-Logan phantom (size, size) in [0, 1]: scikit-image's bundled 400 x 400 copy,
    resized with anti-aliasing (nothing downloaded)."""
    from skimage.data import shepp_logan_phantom    # scikit-image only for this data set
    from skimage.transform import resize

    size = check_int("size", size, low=2)
    return np.clip(resize(shepp_logan_phantom(), (size, size), anti_aliasing=True), 0.0, 1.0)


def check_ct(size, n_angles, n_train, n_val, n_test, noise_level, test_set, seed=0):
    """The checks of :func:`make_ct`, without generating data (``ValueError`` naming the parameter)."""
    check_int("size", size, low=8)
    check_int("n_angles", n_angles, low=1)
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        check_int(name, value, low=1)
    check_real("noise_level", noise_level, low=0.0)
    check_choice("test_set", test_set, TEST_SETS)
    check_int("seed", seed, low=0)


def _measure(A, x, noise_level, rng):
    """Sinograms (B, m) of the flattened images x (B, n), one ``A @ X``, with per-image noise."""
    clean = (A @ x.T).T
    sigma = noise_level * np.abs(clean).mean(axis=1, keepdims=True)
    return clean + sigma * rng.standard_normal(clean.shape)


def make_ct(size=64, n_angles=30, n_train=512, n_val=64, n_test=64, noise_level=0.015,
            test_set="ellipses", seed=0):
    """Generate the train / validation / test splits.

    Parameters
    ----------
    size : int
        Image side N (N x N pixels, at least 8).
    n_angles : int
        Projection angles, evenly spaced in [0, pi); default detector (see ``ParallelBeamGeometry``).
    n_train, n_val, n_test : int
        Split sizes.
    noise_level : float
        Noise standard deviation relative to the mean absolute noiseless measurement of each image.
    test_set : {'ellipses', 'shepp-logan'}
        The test images: fresh random ellipses, or ``n_test`` independent noisy measurements of the
        Shepp-Logan phantom.
    seed : int
        Seed of the split generators; the same seed gives the same data.

    Returns
    -------
    data : dict
        ``x_<split>`` (B, n) flattened row-major, ``d_<split>`` (B, m), float64 numpy arrays, for
        split in train, val, test; ``geometry`` the :class:`ParallelBeamGeometry`.
    """
    check_ct(size, n_angles, n_train, n_val, n_test, noise_level, test_set, seed)
    geometry = ParallelBeamGeometry(size, n_angles)
    A = system_matrix(geometry)
    out = {"geometry": geometry}
    for k, (split, count) in enumerate((("train", n_train), ("val", n_val), ("test", n_test))):
        rng = np.random.default_rng([seed, k])
        if split == "test" and test_set == "shepp-logan":
            x = np.broadcast_to(shepp_logan(size).reshape(1, -1), (count, size * size)).copy()
        else:
            x = random_ellipses(count, size, rng).reshape(count, -1)
        out[f"x_{split}"], out[f"d_{split}"] = x, _measure(A, x, noise_level, rng)
    return out
