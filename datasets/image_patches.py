r"""Natural-image patches on a learned dictionary: the out-of-distribution Lasso of Liu et al. (2023).

Liu et al. (ICML 2023, Sec. 5) test Lasso-trained optimizers on 8 × 8 patches of BSDS500 images
coded on a 64 × 128 K-SVD dictionary (their MS4L2O script ``lasso_bsds500.py``; λ = 0.5 there). BSDS500
needs a download; here the natural images bundled with scikit-image (no network) stand in:

- the dictionary is learned on patches of the *training* images (camera, astronaut, coffee,
  chelsea, rocket; colour ones converted to grey) by scikit-learn's
  ``MiniBatchDictionaryLearning`` (online dictionary learning, Mairal et al. 2009, in place of
  K-SVD), 128 atoms, seeded, its atoms the unit-norm columns of ``D`` (64, 128); its transform
  is OMP with 10 nonzeros, for whoever codes patches with it;
- the test signals are patches of *other* images (coins, moon, page, text, clock and the
  brick, grass and gravel textures), each a seeded random 8 × 8 patch of a random test image.

Every patch has its mean removed and is scaled to unit norm: the mean (the DC component) is not
sparse on a dictionary of zero-mean atoms and is removed in patch-based sparse coding (Mairal
et al. 2009; scikit-learn's denoising example); the contrast of natural patches varies by orders
of magnitude between flat and textured regions, and since the Lasso is not scale invariant
(:math:`z^*(cx, \lambda) = c\,z^*(x, \lambda / c)`) a fixed λ would mean a different sparsity level
on every patch. With unit norm, :math:`\lambda_{\max} = \|D^\top x\|_\infty \le 1` and λ is a
fraction of the signal's scale (MS4L2O min-max scales each patch instead). Flat patches (norm
below 1e-2 after centring, in [0, 1] grey levels) cannot be normalised and are skipped.

The dictionary is cached per (parameters, seed) in the process (:func:`patch_dictionary`).
"""
import functools
import warnings

import numpy as np
import torch
from sklearn.decomposition import MiniBatchDictionaryLearning
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.image import extract_patches_2d

from l2obench.objectives.validation import check_dtype, check_int

TRAIN_IMAGES = ("camera", "astronaut", "coffee", "chelsea", "rocket")
TEST_IMAGES = ("coins", "moon", "page", "text", "clock", "brick", "grass", "gravel")
PATCH = 8  # patches are PATCH × PATCH: signals of size 64
N_ATOMS = 128
FLAT = 1e-2  # centred patches with a smaller norm are flat: skipped


def grey_image(name):
    """A scikit-image bundled image in grey levels [0, 1], float64 (no download)."""
    from skimage import color, data
    image = getattr(data, name)()
    image = color.rgb2gray(image) if image.ndim == 3 else image / 255.0
    return np.asarray(image, dtype=np.float64)


def normalised_patches(image, n_patches, rng):
    """Up to ``n_patches`` random 8 × 8 patches of ``image`` as (·, 64) rows, centred, unit norm, flat
    ones dropped."""
    patches = extract_patches_2d(image, (PATCH, PATCH), max_patches=n_patches,
                                 random_state=int(rng.integers(2 ** 31 - 1))).reshape(-1, PATCH * PATCH)
    patches = patches - patches.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(patches, axis=1, keepdims=True)
    keep = norms[:, 0] > FLAT
    return patches[keep] / norms[keep]


@functools.lru_cache(maxsize=4)
def patch_dictionary(n_train_patches=5000, seed=0):
    """The 64 × 128 dictionary learned on ``n_train_patches`` patches of the training images (float64
    numpy array, unit-norm columns; read-only)."""
    rng = np.random.default_rng(seed)
    per_image = 2 * -(-n_train_patches // len(TRAIN_IMAGES))  # twice as many: flat patches are dropped
    patches = np.concatenate([normalised_patches(grey_image(name), per_image, rng) for name in TRAIN_IMAGES])
    patches = patches[rng.permutation(patches.shape[0])[:n_train_patches]]
    # one pass over the patches: a second one (1.7 s more) changes OMP's error on the test patches by < 1 %
    learner = MiniBatchDictionaryLearning(n_components=N_ATOMS, alpha=0.1, batch_size=256, max_iter=1,
                                          fit_algorithm="cd", transform_algorithm="omp",
                                          transform_n_nonzero_coefs=10, random_state=seed)
    with warnings.catch_warnings():  # the inner coordinate descents stop at their own iteration cap
        warnings.simplefilter("ignore", ConvergenceWarning)
        learner.fit(patches)
    D = learner.components_.T
    D = D / np.linalg.norm(D, axis=0, keepdims=True)
    D.setflags(write=False)
    return D


def check_image_patch_lasso(n_instances, seed=0, dtype="float32", n_train_patches=5000, dictionary_seed=0):
    """The checks of :func:`image_patch_lasso`, without loading images (``ValueError`` naming the parameter)."""
    check_int("n_instances", n_instances, low=1)
    check_int("seed", seed, low=0)
    check_dtype("dtype", dtype)
    check_int("n_train_patches", n_train_patches, low=N_ATOMS)
    check_int("dictionary_seed", dictionary_seed, low=0)


def image_patch_lasso(n_instances, seed=0, dtype="float32", n_train_patches=5000, dictionary_seed=0):
    """Out-of-distribution Lasso signals: dict ``D`` (64, 128) and ``X`` (B, 64), unit-norm centred patches
    of the test images.

    Parameters
    ----------
    n_instances : int
        B test patches.
    seed : int
        Draws the test patches (image and position).
    dtype : {'float32', 'float64'}
    n_train_patches, dictionary_seed : int
        The dictionary's training patches and seed (the dictionary does not change with ``seed``).
    """
    check_image_patch_lasso(n_instances, seed, dtype, n_train_patches, dictionary_seed)
    D = patch_dictionary(n_train_patches, dictionary_seed)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_instances, np.full(len(TEST_IMAGES), 1 / len(TEST_IMAGES)))
    rows = []
    for name, count in zip(TEST_IMAGES, counts):
        image, got = grey_image(name), []
        while count and sum(len(p) for p in got) < count:  # flat patches were dropped: draw again
            got.append(normalised_patches(image, 2 * count, rng))
        rows.append(np.concatenate(got)[:count] if count else np.zeros((0, PATCH * PATCH)))
    X = np.concatenate(rows)[rng.permutation(n_instances)]
    dtype = check_dtype("dtype", dtype)
    return {"D": torch.from_numpy(D.copy()).to(dtype), "X": torch.from_numpy(X).to(dtype)}
