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
import sys
import uuid
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch

from l2obench.objectives.storage import default_cache_dir  # noqa: F401 (the weight cache's folder)


def library_version():
    try:
        return version("l2obench")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


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


def _has_source(module):
    return str(getattr(module, "__file__", None) or "").endswith(".py")


def _l2obench_modules(objects):
    """The modules of ``objects`` (modules, classes, functions, instances) and, transitively,
    every l2obench module their globals refer to: the code a computation can reach.

    The modules of ``objects`` themselves count wherever they live (a model defined in a
    benchmark folder, a module passed explicitly), when they have a Python source file; the
    walk from them follows l2obench modules only (never torch's or numpy's)."""
    todo, seen, roots = [], {}, set()
    for obj in objects:
        module = obj if inspect.ismodule(obj) else sys.modules.get(getattr(obj, "__module__", None) or
                                                                   type(obj).__module__)
        if module is not None:
            todo.append(module)
            if _has_source(module):
                roots.add(id(module))
        if inspect.isclass(obj):  # the whole class hierarchy
            todo.extend(sys.modules[c.__module__] for c in obj.__mro__ if c.__module__ in sys.modules)
    while todo:
        module = todo.pop()
        if module.__name__ in seen or not (module.__name__.startswith("l2obench.") or id(module) in roots):
            continue
        seen[module.__name__] = module
        for value in vars(module).values():
            name = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
            if isinstance(name, str) and name.startswith("l2obench.") and name in sys.modules:
                todo.append(sys.modules[name])
    return seen


@functools.cache
def _module_fingerprint(module):
    source = ast.unparse(_strip_docstrings(ast.parse(inspect.getsource(module))))
    return hashlib.sha256(f"{module.__name__}\n{source}".encode()).hexdigest()


def code_fingerprint(*objects):
    """SHA-256 of the code ``objects`` can reach, comments and docstrings removed.

    ``objects`` are classes (their whole hierarchy counts), functions or modules; their own
    modules and every l2obench module they refer to, transitively, are included, so the list is
    derived from the code and never kept by hand. Part of a training spec: a change in what a
    model computes (a reparametrisation, a new layer formula, a changed loss or training loop)
    can never load weights trained by the old code, while editing a docstring or a comment
    keeps the cache valid. Each module is hashed once per process.
    """
    h = hashlib.sha256()
    for name, module in sorted(_l2obench_modules(objects).items()):
        h.update(_module_fingerprint(module).encode())
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
        """Return ``(tensors, meta)`` or None when absent or unreadable.

        A file that is not ``{"state": {name: tensor}, "meta": {...}}``, or holds a NaN or Inf
        tensor, is ignored with a warning (the caller recomputes and overwrites it).
        """
        path = self.path(key)
        if not path.exists():
            return None
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            state, meta = payload["state"], payload["meta"]
            if not isinstance(state, dict) or not isinstance(meta, dict) or \
                    not all(isinstance(v, torch.Tensor) for v in state.values()):
                raise ValueError("not a mapping of tensors with a metadata mapping")
            if any(v.is_floating_point() and not bool(torch.isfinite(v).all()) for v in state.values()):
                raise ValueError("holds NaN or Inf values")
            return state, meta
        except Exception as exc:  # corrupt, truncated, foreign or non-finite file: recompute
            warnings.warn(f"Ignoring unusable cache file {path} ({exc.__class__.__name__}: {exc}); recomputing.",
                          RuntimeWarning, stacklevel=2)
            return None

    def check_writable(self):
        """Raise ``ValueError`` now, before any training, if the cache folder cannot be created."""
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"weight cache: {self.root} is a file, not a folder (set L2OBENCH_CACHE to a folder).")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"weight cache: cannot create {self.root} ({exc}).") from exc

    def save(self, key, state, meta):
        """Write atomically (a temporary file renamed), so concurrent writers never leave half a file.

        The temporary name is unique per call, not only per process: threads of one process (a
        dask worker with several threads) and processes on two nodes of a cluster that share the
        folder and a pid would otherwise write into one temporary file.
        """
        self.check_writable()
        path = self.path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}-{uuid.uuid4().hex}")
        try:
            torch.save({"state": {k: v.detach().cpu() for k, v in state.items()}, "meta": meta}, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)  # only left when the write failed


def cached(spec, compute, load, *, cache=None):
    """The one path to the on-disk cache: ``load`` the entry of ``spec`` or ``compute`` and store it.

    Parameters
    ----------
    spec : dict
        JSON-serialisable description of everything that determines the result.
    compute : callable
        ``compute() -> (result, tensors, meta)``; ``tensors`` None means "do not store"
        (e.g. a training that diverged).
    load : callable
        ``load(tensors, meta) -> result or None``; None (the entry does not fit) recomputes.
    cache : WeightCache, optional
    """
    cache = cache if cache is not None else WeightCache()
    cache.check_writable()
    key = cache_key(spec)
    hit = cache.load(key)
    if hit is not None:
        result = load(*hit)
        if result is not None:
            return result
        warnings.warn(f"Cache file {cache.path(key)} does not fit its use; recomputing.", RuntimeWarning,
                      stacklevel=2)
    result, tensors, meta = compute()
    if tensors is not None:
        cache.save(key, tensors, meta)
    return result


def cached_training(spec, model, train_fn, *, cache=None):
    """Load ``model``'s weights for ``spec`` from the cache, or train and store them.

    ``train_fn() -> dict`` trains ``model`` in place and returns JSON-able metadata with
    ``train_time`` and ``diverged``. A training that diverged is never stored: its weights are
    not trained ones. Returns the metadata with ``cache_hit`` and ``cache_key`` set.
    """
    key = cache_key(spec)

    def load(state, meta):
        own = model.state_dict()
        if "train_time" not in meta or set(own) != set(state) or \
                any(own[k].shape != state[k].shape for k in own):
            return None  # checked before loading: a failed load must not leave half the weights
        model.load_state_dict(state)
        return {**meta, "cache_hit": True, "cache_key": key}

    def compute():
        meta = dict(train_fn())
        store = None if meta.get("diverged") else model.state_dict()
        return {**meta, "cache_hit": False, "cache_key": key}, store, meta

    return cached(spec, compute, load, cache=cache)
