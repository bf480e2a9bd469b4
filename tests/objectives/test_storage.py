"""The cache folder: $L2OBENCH_CACHE, else $XDG_CACHE_HOME/l2obench, else ~/.cache/l2obench."""
from pathlib import Path

from l2obench.objectives.storage import default_cache_dir
from l2obench.solvers import cache


def test_cache_folder_rule(tmp_path, monkeypatch):
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("L2OBENCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "l2obench"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "l2obench"
    assert cache.default_cache_dir is default_cache_dir   # the weight cache uses the same rule
