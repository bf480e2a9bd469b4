"""torch's thread count is set in one place (l2obench.solvers.threads)."""
import pytest
import torch

from l2obench.solvers.threads import set_torch_threads, torch_threads, train_threads


def test_torch_threads_sets_and_restores():
    previous = torch.get_num_threads()
    with torch_threads(2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == previous
    with torch_threads(None):  # None leaves the count as it is
        assert torch.get_num_threads() == previous


def test_torch_threads_restores_after_an_error():
    previous = torch.get_num_threads()
    with pytest.raises(RuntimeError), torch_threads(2):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == previous


def test_set_torch_threads_returns_the_previous_count():
    previous = torch.get_num_threads()
    assert set_torch_threads(2) == previous
    set_torch_threads(previous)


def test_train_threads_reads_the_environment(monkeypatch):
    monkeypatch.delenv("L2OBENCH_TRAIN_THREADS", raising=False)
    assert train_threads() == 1
    monkeypatch.setenv("L2OBENCH_TRAIN_THREADS", "2")
    assert train_threads() == 2
    for bad in ("0", "-1", "two"):
        monkeypatch.setenv("L2OBENCH_TRAIN_THREADS", bad)
        with pytest.raises(ValueError, match="L2OBENCH_TRAIN_THREADS"):
            train_threads()
