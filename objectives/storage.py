"""Where the suite keeps what it computes once (trained weights, reference solves, CT system matrices).

The one definition of the cache folder, in the lowest layer so that every layer can use it.
"""
import os
from pathlib import Path


def default_cache_dir():
    """``$L2OBENCH_CACHE``, else ``$XDG_CACHE_HOME/l2obench``, else ``~/.cache/l2obench``."""
    if os.environ.get("L2OBENCH_CACHE"):
        return Path(os.environ["L2OBENCH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "l2obench"
