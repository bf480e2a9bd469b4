"""Torch's intra-op thread count, set in this one place.

Small batched products on a shared 2-core machine are often 10–80x faster on one thread than
on two (OpenMP threads spin between calls while other processes hold the cores). Training and
loops that alternate torch with the numpy/LAPACK TV prox run under :func:`torch_threads`; the
count for training is ``$L2OBENCH_TRAIN_THREADS`` (default 1), see :func:`train_threads`.
"""
import contextlib
import os

import torch


def set_torch_threads(n):
    """Set the process's torch thread count (a script's ``--threads``); returns the previous one."""
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n))
    return previous


@contextlib.contextmanager
def torch_threads(n=1):
    """Run the block with ``n`` torch threads (``None``: leave as is), restoring the count after."""
    previous = torch.get_num_threads() if n is None else set_torch_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_threads():
    """Threads for training: ``$L2OBENCH_TRAIN_THREADS`` (default 1)."""
    value = os.environ.get("L2OBENCH_TRAIN_THREADS", "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"L2OBENCH_TRAIN_THREADS must be a positive integer, got {value!r}.")
    return int(value)
