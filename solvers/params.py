"""Hyper-parameters derived from ``__init__`` (scikit-learn's ``get_params`` pattern).

A learned model's ``__init__`` stores its hyper-parameters under their own names and nothing
else; :func:`get_params` reads them back from the signature, so the cache key of a training
(:mod:`l2obench.solvers.fit`) can never miss one. Learned state ends in ``_``.
"""
import inspect

import torch

from l2obench.solvers.cache import fingerprint


def param_names(cls):
    """Names of the ``__init__`` parameters of ``cls`` (without ``self``, ``*args``, ``**kwargs``)."""
    sig = inspect.signature(cls.__init__)
    return [p.name for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def get_params(obj):
    """``{name: value}`` of ``obj``'s hyper-parameters, as JSON-able values.

    Tensors become fingerprints, objects with hyper-parameters of their own (a sub-model, an
    operator) become ``{"class": ..., "params": ...}``.
    """
    return {name: _jsonable(getattr(obj, name)) for name in param_names(type(obj))}


def _jsonable(value):
    if isinstance(value, torch.Tensor):
        return {"tensor": fingerprint(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"class": type(value).__qualname__, "params": get_params(value)}


class HyperParams:
    """Mixin: :meth:`get_params` from the ``__init__`` signature, :meth:`n_params`."""

    def get_params(self):
        return get_params(self)

    def n_params(self):
        """Number of learned scalars."""
        return int(sum(p.numel() for p in self.parameters() if p.requires_grad))
