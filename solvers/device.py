"""The device torch solvers run on, set in this one place (ARCHITECTURE.md, *Handing it to benchopt*).

A benchopt adapter lists ``device`` in its ``parameters`` to opt in (default ``'cpu'``):
:func:`resolve_device` checks the name when benchopt creates the adapter (a missing device is a
``ValueError`` naming ``device`` and what this machine has), :func:`prepare_device` also sets
float32 matmuls to full precision on cuda (TF32 floors the LISTA family's NMSE near −74 dB),
:func:`to_device` moves the problem and the data once in ``set_objective``, :func:`default_device`
puts the tensors the library creates without a ``device=`` (``torch.zeros``, ``torch.eye``) on the
device, and :func:`synchronize` waits for the device's queued kernels: benchopt stops its clock
when ``run`` returns (its issue #581), so the adapters synchronise at the end of ``run``.
On the CPU every one of these is a no-op.
"""
import contextlib

import torch
from torch.overrides import TorchFunctionMode

CPU = torch.device("cpu")


def available_devices():
    """The device names this machine has: ``'cpu'``, then ``'cuda'``, ``'cuda:0'``, … when present."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return names


def resolve_device(name="cpu"):
    """``name`` (``'cpu'``, ``'cuda'``, ``'cuda:N'`` or a ``torch.device``) as a ``torch.device``.

    Raises ``ValueError`` naming ``device`` and the available ones when the device is malformed,
    of another kind, or absent from this machine.
    """
    try:
        device = torch.device(name) if isinstance(name, (str, torch.device)) else None
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda") or (device.type == "cpu" and device.index not in (None, 0)):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {name!r} "
                         f"(available here: {', '.join(available_devices())}).")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index is not None and device.index >= count):
            found = "no GPU found" if count == 0 else f"{count} GPU(s)"
            raise ValueError(f"device={name!r} is not available on this machine ({found}; available here: "
                             f"{', '.join(available_devices())}).")
    return CPU if device.type == "cpu" else device


def set_highest_precision():
    """float32 matmuls and convolutions in full float32 on cuda (no TF32), process-wide."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")


def prepare_device(name="cpu"):
    """:func:`resolve_device`, and on cuda :func:`set_highest_precision` (accuracy-critical runs)."""
    device = resolve_device(name)
    if device.type == "cuda":
        set_highest_precision()
    return device


def synchronize(device):
    """Wait until every kernel queued on ``device`` has finished (a no-op on the CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_key(device):
    """What of the device enters a training cache key: ``'cpu'``, or ``'cuda:<GPU model>'``
    (another GPU model gives other weights)."""
    device = torch.device(device)
    return "cpu" if device.type == "cpu" else f"{device.type}:{torch.cuda.get_device_name(device)}"


def _on(tensor, device):
    return tensor.device == device or (device.index is None and tensor.device.type == device.type)


def to_device(obj, device):
    """``obj`` with its tensors on ``device``: a tensor, None, a tuple or list of them (recursively),
    or a problem with ``to(device)``. An object without ``to`` stays as it is on the CPU and is an
    error elsewhere."""
    device = torch.device(device)
    if obj is None:
        return None
    if isinstance(obj, torch.Tensor):
        return obj if _on(obj, device) else obj.to(device)
    if isinstance(obj, (tuple, list)):
        return type(obj)(to_device(item, device) for item in obj)
    if hasattr(obj, "to"):
        return obj.to(device)
    if device.type == "cpu":
        return obj
    raise ValueError(f"{type(obj).__name__} has no to(device): it cannot run on device={str(device)!r}.")


def to_cpu(obj):
    """A result handed to the objective: its tensors back on the CPU (objectives compute on the CPU)."""
    if isinstance(obj, torch.Tensor):
        return obj.cpu()
    if isinstance(obj, (tuple, list)):
        return type(obj)(to_cpu(item) for item in obj)
    return obj


class _DefaultDevice(TorchFunctionMode):
    """``torch.device(device)`` as a context, except for a factory call given a ``generator``: it
    stays on the generator's device (the seeded CPU generators of the splits and batches)."""

    def __init__(self, device):
        super().__init__()
        self.device = device

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _constructors() and kwargs.get("device") is None and kwargs.get("generator") is None:
            kwargs["device"] = self.device
        return func(*args, **kwargs)


def _constructors():
    from torch.utils._device import _device_constructors  # torch's own list of factory functions

    return _device_constructors()


def default_device(device):
    """Context: tensors created without a ``device=`` land on ``device`` (nothing on the CPU)."""
    device = torch.device(device)
    return contextlib.nullcontext() if device.type == "cpu" else _DefaultDevice(device)
