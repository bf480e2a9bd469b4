"""On-disk cache of trained weights, keyed by a hash of everything that determines them.

A cache entry is one file holding ``{"state": state_dict, "meta": dict}``. It is written
atomically and read with ``torch.load(weights_only=True)``, which restores tensors and plain
containers only and never executes code. A file that cannot be read is reported with a
warning and the model is retrained.
"""
import ast
import functools
import hashlib
import inspect
import json
import os
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch


def library_version():
    try:
        return version("l2obench")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def default_cache_dir():
    """``$L2OBENCH_CACHE``, else ``$XDG_CACHE_HOME/l2obench``, else ``~/.cache/l2obench``."""
    if os.environ.get("L2OBENCH_CACHE"):
        return Path(os.environ["L2OBENCH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "l2obench"


def fingerprint(*tensors):
    """SHA-256 of the shapes, dtypes and bytes of ``tensors`` (None entries allowed).

    Hashing the data itself, not the generator's arguments, means a change in a data
    generator can never reuse weights trained on other data.
    """
    h = hashlib.sha256()
    for t in tensors:
        if t is None:
            h.update(b"none")
            continue
        arr = t.detach().cpu().contiguous().numpy() if isinstance(t, torch.Tensor) else np.ascontiguousarray(t)
        h.update(f"{arr.dtype}{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _strip_docstrings(tree):
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def code_fingerprint(*modules):
    """SHA-256 of the code of ``modules`` with comments and docstrings removed.

    Part of a training spec, so that a change in what a model computes (a reparametrisation,
    a new layer formula) can never load weights trained by the old code, while editing a
    docstring or a comment keeps the cache valid. Computed once per process for a set of
    modules, i.e. for the code that is loaded.
    """
    h = hashlib.sha256()
    for name, module in sorted({m.__name__: m for m in modules}.items()):
        h.update(name.encode())
        h.update(ast.unparse(_strip_docstrings(ast.parse(inspect.getsource(module)))).encode())
    return h.hexdigest()[:16]


def cache_key(spec):
    """Hash of a JSON-serialisable ``spec`` plus the library and torch versions."""
    payload = {"spec": spec, "l2obench": library_version(), "torch": torch.__version__}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class WeightCache:
    """A folder of cached ``state_dict`` files.

    Parameters
    ----------
    root : path-like, optional
        Folder of the cache (default :func:`default_cache_dir`).
    """

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def path(self, key):
        return self.root / f"{key}.pt"

    def load(self, key):
        """Return ``(state_dict, meta)`` or None when absent or unreadable."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            return payload["state"], payload["meta"]
        except Exception as exc:  # corrupt, truncated or foreign file: retrain
            warnings.warn(f"Ignoring unreadable weight cache {path} ({exc.__class__.__name__}: {exc}); retraining.",
                          RuntimeWarning, stacklevel=2)
            return None

    def save(self, key, state, meta):
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save({"state": {k: v.detach().cpu() for k, v in state.items()}, "meta": meta}, tmp)
        os.replace(tmp, path)


def cached_training(spec, model, train_fn, *, cache=None):
    """Load ``model``'s weights for ``spec`` from the cache, or train and store them.

    Parameters
    ----------
    spec : dict
        JSON-serialisable description of everything that determines the weights: data
        fingerprint, seeds, architecture, loss, training budget.
    model : torch.nn.Module
        Model whose ``state_dict`` is loaded or trained in place.
    train_fn : callable
        ``train_fn() -> dict`` trains ``model`` in place and returns JSON-able metadata
        (it should include ``train_time``).
    cache : WeightCache, optional

    Returns
    -------
    meta : dict
        The training metadata, with ``cache_hit`` set.
    """
    cache = cache if cache is not None else WeightCache()
    key = cache_key(spec)
    hit = cache.load(key)
    if hit is not None:
        state, meta = hit
        try:
            model.load_state_dict(state)
            return {**meta, "cache_hit": True, "cache_key": key}
        except (RuntimeError, KeyError) as exc:
            warnings.warn(f"Cached weights {cache.path(key)} do not fit the model ({exc}); retraining.",
                          RuntimeWarning, stacklevel=2)
    meta = dict(train_fn())
    cache.save(key, model.state_dict(), meta)
    return {**meta, "cache_hit": False, "cache_key": key}
