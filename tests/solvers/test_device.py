"""The device of the torch solvers: names checked with a clear error, problems and data moved once,
tensors created without ``device=`` following the device, synchronisation on cuda only (the GPU
check scripts: tests/results/test_gpu_check.py). GPU-only tests skip themselves without one."""
import pytest
import torch

from l2obench.datasets.sparse_coding import make_compressed_sensing
from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.sparse_analysis import SparseAnalysisProblem
from l2obench.objectives.tv_deconvolution import TVProblem, TVSynthesisProblem
from l2obench.solvers import device as dev
from l2obench.solvers import fit as fit_module
from l2obench.solvers.fit import fit
from l2obench.solvers.losses import Loss
from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.lasso.slista import SLISTA

needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")


@pytest.fixture
def fake_gpus(monkeypatch):
    """A machine with two cuda devices, as far as the device checks can tell."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


def problems():
    g = torch.Generator().manual_seed(0)
    return [LassoProblem(torch.randn(6, 10, dtype=torch.float64, generator=g)),
            TVProblem(torch.randn(8, 8, dtype=torch.float64, generator=g)),
            TVSynthesisProblem(torch.randn(8, 8, dtype=torch.float64, generator=g)),
            SparseAnalysisProblem(torch.randn(4, 10, dtype=torch.float64, generator=g))]


def test_cpu_resolves_to_the_cpu():
    assert dev.resolve_device("cpu") == torch.device("cpu") == dev.resolve_device(torch.device("cpu:0"))
    assert dev.available_devices()[0] == "cpu"


@pytest.mark.parametrize("name", ["gpu", "mps", "cuda:x", "cpu:1", None, 0])
def test_a_bad_device_name_is_a_clear_error(name):
    with pytest.raises(ValueError, match=r"device must be 'cpu', 'cuda' or 'cuda:N'.*available here: cpu"):
        dev.resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_a_missing_gpu_is_a_clear_error(name):
    with pytest.raises(ValueError, match=r"not available on this machine \(no GPU found; available here: cpu\)"):
        dev.resolve_device(name)


def test_cuda_indices_are_checked_against_the_gpus_present(fake_gpus):
    assert dev.available_devices() == ["cpu", "cuda", "cuda:0", "cuda:1"]
    assert dev.resolve_device("cuda") == torch.device("cuda")
    assert dev.resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(ValueError, match=r"device='cuda:2' is not available on this machine \(2 GPU\(s\)"):
        dev.resolve_device("cuda:2")


def test_cuda_runs_in_full_float32_precision(fake_gpus, monkeypatch):
    calls = []
    monkeypatch.setattr(dev, "set_highest_precision", lambda: calls.append("highest"))
    dev.prepare_device("cpu")
    assert calls == []
    dev.prepare_device("cuda:0")
    assert calls == ["highest"]


def test_highest_precision_turns_tf32_off():
    before = (torch.get_float32_matmul_precision(), torch.backends.cuda.matmul.allow_tf32,
              torch.backends.cudnn.allow_tf32)
    try:
        torch.backends.cuda.matmul.allow_tf32 = True
        dev.set_highest_precision()
        assert torch.get_float32_matmul_precision() == "highest"
        assert torch.backends.cuda.matmul.allow_tf32 is False and torch.backends.cudnn.allow_tf32 is False
    finally:
        torch.set_float32_matmul_precision(before[0])
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before[1:]


def test_synchronize_waits_on_cuda_only(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    dev.synchronize(torch.device("cpu"))
    assert calls == []
    dev.synchronize("cuda:1")
    assert calls == [torch.device("cuda:1")]


def test_tensors_created_without_a_device_follow_the_default_device():
    """``meta`` stands in for a GPU: factories land there, unless seeded by a (CPU) generator."""
    with dev.default_device("meta"):
        made = [torch.zeros(3), torch.eye(2), torch.tensor(1.0), torch.full((2,), 1.0)]
        seeded = torch.randperm(5, generator=torch.Generator().manual_seed(0))
        explicit = torch.ones(2, device="cpu")
    assert all(t.device.type == "meta" for t in made)
    assert seeded.device.type == "cpu" and explicit.device.type == "cpu"
    with dev.default_device("cpu"):
        assert torch.zeros(1).device.type == "cpu"
    assert torch.zeros(1).device.type == "cpu"


def test_to_device_moves_nested_data_and_keeps_cpu_objects():
    X, lmbd = torch.ones(2, 3), torch.ones(2)
    moved = dev.to_device(((X, lmbd), None, [X]), "meta")
    assert moved[0][0].device.type == "meta" and moved[1] is None and isinstance(moved[2], list)
    assert dev.to_device((X, lmbd), "cpu")[0] is X  # nothing copied on the device it is on
    opaque = object()
    assert dev.to_device(opaque, "cpu") is opaque
    with pytest.raises(ValueError, match="object has no to\\(device\\): it cannot run on device='meta'"):
        dev.to_device(opaque, "meta")
    back = dev.to_cpu((torch.ones(2, dtype=torch.float64), 3))
    assert back[0].device.type == "cpu" and back[1] == 3
    assert dev.device_key("cpu") == "cpu"


@pytest.mark.parametrize("problem", problems(), ids=lambda p: type(p).__name__)
def test_a_problem_on_its_device_is_itself(problem):
    assert problem.to("cpu") is problem and problem.to(torch.device("cpu")) is problem


def test_fit_puts_the_device_in_the_cache_key(monkeypatch, tmp_path):
    """GPU training gives other weights: the device is part of the key (the CPU's is 'cpu')."""
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    data = make_compressed_sensing(n_train=40, n_test=8, n_measurements=10, n_atoms=20, seed=0)
    problem = LassoProblem(data.D)
    inputs = (data.X_train, 0.1 * problem.lambda_max(data.X_train))
    meta = fit(SLISTA(n_layers=2), problem, inputs, loss=Loss("unsupervised"), config=TrainConfig(n_steps=2),
               device="cpu")
    monkeypatch.setattr(fit_module, "device_key", lambda device: "cuda:Fake GPU")  # the rest on the CPU
    other = fit(SLISTA(n_layers=2), problem, inputs, loss=Loss("unsupervised"), config=TrainConfig(n_steps=2))
    keys = {meta["cache_key"], other["cache_key"]}
    assert len(keys) == 2 and not other["cache_hit"]
    with pytest.raises(ValueError, match="device"):
        fit(SLISTA(n_layers=2), problem, inputs, loss=Loss("unsupervised"), device="gpu")


@needs_gpu
@pytest.mark.parametrize("problem", problems(), ids=lambda p: type(p).__name__)
def test_a_problem_moves_every_tensor_to_the_gpu(problem):
    moved = problem.to("cuda")
    assert type(moved) is type(problem)
    assert all(t is None or t.device.type == "cuda" for t in moved.fingerprint_tensors())
    assert moved.to("cuda") is moved


@needs_gpu
def test_fit_trains_on_the_gpu(monkeypatch, tmp_path):
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    data = make_compressed_sensing(n_train=40, n_test=8, n_measurements=10, n_atoms=20, seed=0)
    problem = LassoProblem(data.D)
    inputs = (data.X_train, 0.1 * problem.lambda_max(data.X_train))
    model = SLISTA(n_layers=2)
    fit(model, problem, inputs, loss=Loss("unsupervised"), config=TrainConfig(n_steps=2), device="cuda")
    assert all(p.device.type == "cuda" for p in model.parameters())
    again = SLISTA(n_layers=2)  # from the cache: CPU-stored weights loaded into the GPU model
    meta = fit(again, problem, inputs, loss=Loss("unsupervised"), config=TrainConfig(n_steps=2), device="cuda")
    assert meta["cache_hit"] and torch.equal(again.log_step_.cpu(), model.log_step_.cpu())

