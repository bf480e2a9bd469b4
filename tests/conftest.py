import pytest
import torch

# Unit tests use small matrices: one thread avoids thread start-up costs and keeps the run
# predictable when other processes share the cores (OpenMP spinning made tiny problems up to
# 80x slower on a loaded 2-core machine).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _one_thread():
    """Every test starts on one thread, whatever an earlier test left behind."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
