r"""ℓ1-logistic regression instances: synthetic (training distribution) and real (out of distribution).

**Synthetic** (Liu et al., ICML 2023, Sec. 5, as their code MS4L2O generates them): features
:math:`F_i \in \mathbb{R}^{N\times p}` i.i.d. N(0, 1), a ground truth :math:`w_i^\star` with
``sparsity`` N(0, 1) nonzeros on a uniform random support, and noiseless labels
:math:`y_{ij} = +1` if :math:`\langle f_{ij}, w_i^\star\rangle \ge 0`, else −1; N = 1000, p = 50,
20 nonzeros and λ = ρ = 0.1. :class:`LogisticInstanceSampler` draws a batch of instance ids at
once from one generator seeded from (seed, ids) (as
:class:`~l2obench.datasets.lasso_instances.LassoInstanceSampler`); :func:`logistic_instances` is
the fixed set ``ids = 0, …, B − 1``.

**Real** (:func:`real_logistic`): Liu et al. test on UCI's Ionosphere and Spambase, which need a
download; here scikit-learn's bundled sets stand in (no download): breast cancer (569 × 30,
malignant vs benign), wine (178 × 13, class 0 vs the rest), digits (1797 × 64, even vs odd),
iris (150 × 4, setosa vs the rest). Features are standardised over the whole set (as MS4L2O
does; constant features keep scale 1) and each instance is a seeded random subsample of
``n_samples`` rows without replacement.
"""
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

from l2obench.datasets.instances import InstanceSampler, check_instance_ids, instance_generator, sparse_codes
from l2obench.objectives.l1_logistic import L1LogisticProblem
from l2obench.objectives.validation import check_choice, check_dtype, check_int, check_real

# name -> (loader, rows, the positive class of a target array)
REAL_SETS = {
    "breast-cancer": (load_breast_cancer, 569, lambda t: t == 1),
    "wine": (load_wine, 178, lambda t: t == 0),
    "digits": (load_digits, 1797, lambda t: t % 2 == 0),
    "iris": (load_iris, 150, lambda t: t == 0),
}
REAL_DATASETS = tuple(REAL_SETS)  # the names real_logistic accepts
SPARSITY = 20  # nonzeros of the ground truth (MS4L2O), or every feature when there are fewer


def default_sparsity(sparsity, n_features):
    """``sparsity``, or :data:`SPARSITY` capped at ``n_features`` when None."""
    return min(SPARSITY, n_features) if sparsity is None and isinstance(n_features, int) else sparsity


def check_sampler(n_samples, n_features, rho, seed, dtype, sparsity):
    check_int("n_samples", n_samples, low=1)
    n_features = check_int("n_features", n_features, low=1)
    check_real("rho", rho, low=0.0)
    check_int("seed", seed, low=0)
    check_dtype("dtype", dtype)
    check_int("sparsity", default_sparsity(sparsity, n_features), low=1, high=n_features)


def check_logistic_instances(n_instances, n_samples=1000, n_features=50, sparsity=None, seed=0, dtype="float32"):
    """The checks of :func:`logistic_instances`, without generating data (``ValueError`` naming the parameter)."""
    check_int("n_instances", n_instances, low=1)
    check_sampler(n_samples, n_features, 0.1, seed, dtype, sparsity)


class LogisticInstanceSampler(InstanceSampler):
    """Synthetic ℓ1-logistic instances of Liu et al. (2023) by id: ``sample(ids) -> (problem, y, lmbd)``.

    Parameters
    ----------
    n_samples, n_features : int
        N samples of p features per instance (1000, 50).
    rho : float
        λ of every instance (0.1).
    seed : int
        Sampler seed: with the ids, it determines the instances.
    dtype : {'float32', 'float64'}
    sparsity : int or None
        Nonzeros of the ground-truth weights (None: 20, or ``n_features`` if fewer).
    """

    def __init__(self, n_samples=1000, n_features=50, rho=0.1, seed=0, dtype="float32", sparsity=None):
        self.n_samples = n_samples
        self.n_features = n_features
        self.rho = rho
        self.seed = seed
        self.dtype = dtype
        self.sparsity = sparsity

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming the bad one); returns self."""
        check_sampler(self.n_samples, self.n_features, self.rho, self.seed, self.dtype, self.sparsity)
        return self

    def draw(self, ids):
        """The instances ``ids`` as a dict: ``F`` (b, N, p), ``y`` (b, N) in {−1, +1} and ``w`` (b, p), the
        ground truth."""
        self.check()
        ids = check_instance_ids(ids)
        gen, b = instance_generator(self.seed, ids), ids.numel()
        F = torch.randn(b, self.n_samples, self.n_features, generator=gen, dtype=torch.float64)
        w = sparse_codes(gen, b, self.n_features, default_sparsity(self.sparsity, self.n_features))
        y = torch.where(torch.einsum("bnp,bp->bn", F, w) >= 0, 1.0, -1.0).double()
        dtype = check_dtype("dtype", self.dtype)
        return {"F": F.to(dtype), "y": y.to(dtype), "w": w.to(dtype)}

    def sample(self, ids):
        """``(L1LogisticProblem, y (b, N), lmbd (b,) = rho)`` for the instance ids ``ids`` (b,)."""
        data = self.draw(ids)
        y = data["y"]
        return L1LogisticProblem(data["F"]), y, torch.full((y.shape[0],), float(self.rho), dtype=y.dtype)


def logistic_instances(n_instances, n_samples=1000, n_features=50, sparsity=None, seed=0, dtype="float32"):
    """``n_instances`` synthetic instances (ids 0 … n_instances − 1 of :class:`LogisticInstanceSampler`):
    dict ``F`` (B, N, p), ``y`` (B, N) in {−1, +1}, ``w`` (B, p) the sparse ground truth."""
    check_logistic_instances(n_instances, n_samples, n_features, sparsity, seed, dtype)
    sampler = LogisticInstanceSampler(n_samples, n_features, seed=seed, dtype=dtype, sparsity=sparsity)
    return sampler.draw(torch.arange(n_instances))


def check_real_logistic(name, n_instances=64, n_samples=100, seed=0, dtype="float32"):
    """The checks of :func:`real_logistic`, without loading data; ``n_samples`` must fit in the set."""
    check_choice("name", name, REAL_SETS)
    check_int("n_instances", n_instances, low=1)
    rows = REAL_SETS[name][1]
    check_int("n_samples", n_samples, low=1)
    if n_samples > rows:
        raise ValueError(f"n_samples={n_samples} is too large: {name} has {rows} samples, so n_samples <= {rows}.")
    check_int("seed", seed, low=0)
    check_dtype("dtype", dtype)


def real_logistic(name, n_instances=64, n_samples=100, seed=0, dtype="float32"):
    """Instances subsampled from a bundled scikit-learn data set: dict ``F`` (B, N, p), ``y`` (B, N) in {−1, +1}.

    Parameters
    ----------
    name : {'breast-cancer', 'wine', 'digits', 'iris'}
    n_instances : int
    n_samples : int
        Rows of each instance, drawn without replacement (at most the set's size).
    seed : int
    dtype : {'float32', 'float64'}
    """
    check_real_logistic(name, n_instances, n_samples, seed, dtype)
    loader, rows, positive = REAL_SETS[name]
    data = loader()
    features, target = data.data.astype(np.float64), np.asarray(data.target)
    if features.shape[0] != rows:
        raise RuntimeError(f"scikit-learn's {name} holds {features.shape[0]} samples, not {rows}: update REAL_SETS.")
    std = features.std(axis=0)
    features = (features - features.mean(axis=0)) / np.where(std > 0, std, 1.0)
    labels = np.where(positive(target), 1.0, -1.0)
    rng = np.random.default_rng(seed)
    rows_of = rng.random((n_instances, rows)).argsort(axis=1)[:, :n_samples]  # without replacement
    dtype = check_dtype("dtype", dtype)
    return {"F": torch.from_numpy(features[rows_of]).to(dtype), "y": torch.from_numpy(labels[rows_of]).to(dtype)}
