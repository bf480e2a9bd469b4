r"""Lasso *instances*, one dictionary each: the training distribution of learned optimizers.

Liu et al. (ICML 2023, "Towards constituting mathematical structures for learning to
optimize", Sec. 5; their code MS4L2O) train and test on instances

.. math:: D_i \in \mathbb{R}^{m\times n},\ (D_i)_{kl} \sim N(0, 1) \text{ then unit-norm columns},\qquad
          z_i^\star \text{ with } s \text{ nonzeros } N(0, 1) \text{ on a uniform random support},\qquad
          x_i = D_i z_i^\star,

noiseless, with m = 250, n = 500, s = 50 and λ = ρ = 0.1 for every instance (absolute, not a
fraction of λ_max). A learned optimizer sees a fresh batch at every training step, so instances
come from :class:`LassoInstanceSampler`: ``sample(ids)`` draws the batch of instance ids ``ids``
at once from one ``torch.Generator`` seeded from (seed, ids), so the same ids give the same
instances in any process, and a validation or test set is a fixed id range disjoint from the
training ids. :func:`lasso_instances` is the fixed set ``ids = 0, …, B − 1``.

Instances are drawn in float64 and cast, so the float32 instances are the float64 ones rounded
(a float64 reference solve is on the same instances).
"""
import torch

from l2obench.datasets.instances import InstanceSampler, check_instance_ids, instance_generator, sparse_codes
from l2obench.objectives.lasso import BatchedLassoProblem
from l2obench.objectives.validation import check_dtype, check_int, check_real


def check_lasso_instances(n_instances, m=250, n=500, sparsity=50, seed=0, dtype="float32"):
    """The checks of :func:`lasso_instances`, without generating data (``ValueError`` naming the parameter)."""
    check_int("n_instances", n_instances, low=1)
    check_sampler(m, n, sparsity, 0.1, seed, dtype)


def check_sampler(m, n, sparsity, rho, seed, dtype):
    check_int("m", m, low=1)
    n = check_int("n", n, low=1)
    check_int("sparsity", sparsity, low=0, high=n)
    check_real("rho", rho, low=0.0)
    check_int("seed", seed, low=0)
    check_dtype("dtype", dtype)


class LassoInstanceSampler(InstanceSampler):
    """Lasso instances of Liu et al. (2023) by id: ``sample(ids) -> (problem, X, lmbd)``.

    Parameters
    ----------
    m, n : int
        Signal and code sizes (250, 500).
    sparsity : int
        Nonzeros of the ground-truth code (50).
    rho : float
        λ of every instance (0.1).
    seed : int
        Sampler seed: with the ids, it determines the instances.
    dtype : {'float32', 'float64'}
    """

    def __init__(self, m=250, n=500, sparsity=50, rho=0.1, seed=0, dtype="float32"):
        self.m = m
        self.n = n
        self.sparsity = sparsity
        self.rho = rho
        self.seed = seed
        self.dtype = dtype

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming the bad one); returns self."""
        check_sampler(self.m, self.n, self.sparsity, self.rho, self.seed, self.dtype)
        return self

    def draw(self, ids):
        """The instances ``ids`` as a dict: ``D`` (b, m, n), ``Z`` (b, n) the sparse codes, ``X`` (b, m) = D Z."""
        self.check()
        ids = check_instance_ids(ids)
        gen, b = instance_generator(self.seed, ids), ids.numel()
        D = torch.randn(b, self.m, self.n, generator=gen, dtype=torch.float64)
        D /= D.norm(dim=1, keepdim=True)
        Z = sparse_codes(gen, b, self.n, self.sparsity)
        X = torch.einsum("bmn,bn->bm", D, Z)
        dtype = check_dtype("dtype", self.dtype)
        return {"D": D.to(dtype), "Z": Z.to(dtype), "X": X.to(dtype)}

    def sample(self, ids):
        """``(BatchedLassoProblem, X (b, m), lmbd (b,) = rho)`` for the instance ids ``ids`` (b,)."""
        data = self.draw(ids)
        X = data["X"]
        return BatchedLassoProblem(data["D"]), X, torch.full((X.shape[0],), float(self.rho), dtype=X.dtype)


def lasso_instances(n_instances, m=250, n=500, sparsity=50, seed=0, dtype="float32"):
    """``n_instances`` Lasso instances (ids 0 … n_instances − 1 of :class:`LassoInstanceSampler`):
    dict ``D`` (B, m, n) with unit-norm columns, ``Z`` (B, n) with ``sparsity`` nonzeros,
    ``X`` = D Z (B, m), noiseless."""
    check_lasso_instances(n_instances, m, n, sparsity, seed, dtype)
    return LassoInstanceSampler(m, n, sparsity, seed=seed, dtype=dtype).draw(torch.arange(n_instances))
