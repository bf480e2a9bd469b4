"""Memory of the autograd graph: bytes of the tensors saved for backward.

On CPU, torch has no ``max_memory_allocated``; what grows with an unrolled depth is the set of
tensors autograd saves for the backward pass, and
:func:`torch.autograd.graph.saved_tensors_hooks` sees every one of them. The meter counts each
underlying storage once (a parameter saved by K layers counts once) and keeps the largest total
over the calls it wraps. Temporaries of the backward pass itself (e.g. the IFT linear solve,
whose size does not depend on the forward depth) are not counted.
"""
import torch


class SavedTensorMeter:
    """Peak bytes saved for backward over the calls of :meth:`wrap`-ped functions.

    Attributes
    ----------
    peak_bytes_ : int
        Largest total, over calls, of the distinct storages saved during one call.
    last_bytes_ : int
        Total of the last call.
    """

    def __init__(self):
        self.peak_bytes_ = 0
        self.last_bytes_ = 0

    def measure(self, fn, *args, **kwargs):
        """Call ``fn(*args, **kwargs)`` and record the bytes its graph saves."""
        seen = {}

        def pack(tensor):
            storage = tensor.untyped_storage()
            seen[storage.data_ptr()] = storage.nbytes()
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            out = fn(*args, **kwargs)
        self.last_bytes_ = sum(seen.values())
        self.peak_bytes_ = max(self.peak_bytes_, self.last_bytes_)
        return out

    def wrap(self, fn):
        """``fn`` measured at every call."""
        def measured(*args, **kwargs):
            return self.measure(fn, *args, **kwargs)
        return measured
