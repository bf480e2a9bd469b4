"""Instance samplers of per-instance problems and their disjoint id ranges (Liu et al. ICML 2023).

A learned optimizer trains on a fresh batch of problem instances per step; an instance sampler
(:class:`~l2obench.datasets.lasso_instances.LassoInstanceSampler`, ...) draws the instances of a
batch of ids deterministically from its seed and the ids. The train, validation and test
instances are the samplers' draws for three disjoint ranges of ids, defined here once, so no
test instance is ever a training one and a training run of ``n`` instances never reaches the
validation range.
"""
import hashlib
import inspect

import numpy as np
import torch

from l2obench.objectives.validation import check_choice, check_int

SPLITS = ("train", "val", "test")
SPLIT_SIZE = 2 ** 40  # ids per split: far more instances than any training draws
OFFSETS = {split: i * SPLIT_SIZE for i, split in enumerate(SPLITS)}


def split_ids(split, n):
    """The first ``n`` instance ids of ``split`` ('train', 'val' or 'test'), a LongTensor (n,)."""
    check_choice("split", split, SPLITS)
    n = check_int("n", n, low=1, high=SPLIT_SIZE)
    return torch.arange(OFFSETS[split], OFFSETS[split] + n, dtype=torch.long)



def check_instance_ids(ids):
    """``ids`` as a 1-D int64 CPU tensor of at least one instance id (a tensor, an array or a list)."""
    if isinstance(ids, (list, tuple, range, np.ndarray)):
        ids = torch.as_tensor(np.asarray(ids))
    if not isinstance(ids, torch.Tensor) or ids.ndim != 1 or ids.numel() == 0 or \
            ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise ValueError(f"ids must be a non-empty 1-D tensor of integer instance ids, got {ids!r}.")
    return ids.to(device="cpu", dtype=torch.int64)


def instance_generator(seed, ids):
    """The ``torch.Generator`` of a batch: seeded from a hash of (seed, ids), so the same ids give the
    same batch and any other ids (another order too) another one."""
    data = np.asarray([seed], dtype="<i8").tobytes() + ids.numpy().astype("<i8").tobytes()
    digest = hashlib.blake2b(data, digest_size=8).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest, "little") & ((1 << 63) - 1))


def sparse_codes(gen, n_rows, n, sparsity):
    """(n_rows, n) float64 codes with ``sparsity`` N(0, 1) nonzeros per row on a uniform random support."""
    support = torch.rand(n_rows, n, generator=gen, dtype=torch.float64).argsort(dim=1)[:, :sparsity]
    values = torch.randn(n_rows, sparsity, generator=gen, dtype=torch.float64)
    return torch.zeros(n_rows, n, dtype=torch.float64).scatter_(1, support, values)

class InstanceSampler:
    """Base of the instance samplers: ``__init__`` stores hyper-parameters only (one of them
    ``dtype``), ``get_params`` reads them back from its signature (the cache key of a training on
    sampled instances), ``astype`` gives the same sampler in another dtype (the instances are
    drawn in float64 and cast: both dtypes hold the same instances up to rounding). Subclasses
    implement ``check()`` and ``sample(ids) -> (problem, X, lmbd)``."""

    def get_params(self):
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def astype(self, dtype):
        return type(self)(**{**self.get_params(), "dtype": dtype})
