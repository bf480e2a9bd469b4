"""The GPU check (``l2obench.results.gpu_check`` and the thin ``benchmarks/<name>/gpu_check.py``
scripts): the solver selection of the two sides, the comparison within the float32 tolerances, the
plan without a GPU, and the check end to end with both sides on the CPU; and the adapters it
compares hand their results back on the CPU (a fake device: tensors that only ``.cpu()`` makes
plain). GPU-only runs are the scripts themselves (``python benchmarks/<name>/gpu_check.py``)."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from benchopt.benchmark import Benchmark

from l2obench.results import gpu_check as gc
from l2obench.results import registry
from l2obench.results.regression import read_baseline
from l2obench.results.tables import family

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "benchmarks").glob("*/gpu_check.py"))
CHECKED = ["lasso", "sparse_analysis", "shortest_path", "ct"]  # the benchmarks where a GPU helps


def script(name):
    return ROOT / "benchmarks" / name / "gpu_check.py"


def run_script(name, *args, timeout=120):
    return subprocess.run([sys.executable, str(script(name)), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def test_each_benchmark_where_a_gpu_helps_has_a_script_and_a_quick_subset():
    assert [p.parent.name for p in SCRIPTS] == sorted(CHECKED) and sorted(gc.QUICK) == sorted(CHECKED)
    for name in CHECKED:  # a thin script: the library's main with its benchmark's name
        text = script(name).read_text()
        assert f'main(["--benchmark", "{name}", *sys.argv[1:]])' in text and len(text.splitlines()) < 30


def test_gpu_check_rewrites_the_solver_selection():
    assert gc.with_device("ISTA[accelerated=[False,True],step=1.0]", "cuda") == \
        "ISTA[accelerated=[False,True],step=1.0,device=cuda]"
    assert gc.with_device("ADMM", "cuda:1") == "ADMM[device=cuda:1]"
    assert gc.with_device("ADMM[device=cpu]", "cuda") == "ADMM[device=cuda]"
    assert gc.strip_device("ISTA[accelerated=True,device=cuda,step=1.0]") == "ISTA[accelerated=True,step=1.0]"
    assert gc.strip_device("ADMM[device=cuda:0]") == "ADMM"


def test_gpu_check_reports_a_mismatch_beyond_the_float32_tolerance():
    base = read_baseline(ROOT / "results" / "baselines" / "lasso.csv")
    table, comp = gc.comparison_table(base, base.copy(), "lasso")
    assert comp.ok and (table["failures"] == 0).all() and (table["max_abs_diff"] == 0).all()
    off = base.copy()
    off.loc[0, "value"] *= 1.01  # 1 %: far beyond a classical float32 rtol of 1e-4
    table, comp = gc.comparison_table(base, off, "lasso")
    assert not comp.ok and int(table.set_index("metric").loc["value", "failures"]) == 1


@pytest.mark.parametrize("name", CHECKED)
@pytest.mark.parametrize("quick", [False, True])
def test_the_plan_compares_the_solvers_with_a_device_parameter(name, quick):
    bench = registry.get([name])[0]
    config, cpu, dev, cpu_only = gc.plan(bench, "cuda", quick)
    listed = yaml.safe_load(bench.config_path.read_text())["solver"]
    assert dev == [gc.with_device(s, "cuda") for s in cpu] and cpu
    assert set(map(family, cpu)) <= gc.device_solvers(bench)
    if quick:
        assert config["solver"] == cpu and not cpu_only
    else:  # every solver of the config is in one of the two lists
        assert sorted(cpu + cpu_only) == sorted(listed) and not set(map(family, cpu_only)) & gc.device_solvers(bench)


@pytest.mark.parametrize("name", CHECKED)
def test_gpu_check_dry_run_says_when_no_gpu_is_found(name):
    proc = run_script(name, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    _, cpu, _, _ = gc.plan(registry.get([name])[0], "cuda", quick=False)
    reference = next(line for line in proc.stdout.splitlines() if line.startswith("  reference (cpu): "))
    assert reference.removeprefix("  reference (cpu): ").split("; ") == cpu
    assert f"{name}: benchmarks/{name}/configs/quick.yml" in proc.stdout
    if not torch.cuda.is_available():
        assert "no GPU found" in proc.stdout and "device (cuda)" not in proc.stdout


def test_a_bad_option_is_exit_2(capsys):
    assert gc.main(["--benchmark", "lasso", "--dry-run", "--device", "gpu"]) == 2
    assert "device must be" in capsys.readouterr().err
    for argv in ([], ["--benchmark", "no_such_benchmark"]):  # the benchmark is required, among the registered
        with pytest.raises(SystemExit) as exc:
            gc.main(argv)
        assert exc.value.code == 2
    assert "tv_deconvolution" in capsys.readouterr().err
    assert gc.main(["--benchmark", "tv_deconvolution", "--dry-run"]) == 2  # no solver lists a device
    assert "lists a device parameter" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("name, metric", [("lasso", "nmse_db"), ("sparse_analysis", "rel_error"),
                                          ("shortest_path", "regret")])
def test_gpu_check_quick_runs_end_to_end_on_the_cpu(tmp_path, name, metric):
    """Both sides on the CPU (``--device cpu``): the runs, the name matching and the comparison."""
    proc = run_script(name, "--quick", "--device", "cpu", "--out-dir", str(tmp_path), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ok: every metric of cpu agrees with cpu" in proc.stdout and metric in proc.stdout


# --- the adapters hand their results back on the CPU (a fake device) ---

class OnFakeDevice(torch.Tensor):
    """A tensor "on another device": every result computed from it is one too, until ``.cpu()``."""

    def cpu(self, *args, **kwargs):
        return torch.Tensor.cpu(self).as_subclass(torch.Tensor)


def fake(obj, depth=0):
    """``obj`` with its tensors on the fake device: tensors, tuples, a problem's attributes (and its
    terms' attributes), a model's parameters and buffers."""
    if isinstance(obj, torch.Tensor):
        return obj.as_subclass(OnFakeDevice)
    if isinstance(obj, tuple):
        return tuple(fake(item) for item in obj)
    if isinstance(obj, torch.nn.Module):
        for module in obj.modules():
            for key, p in module._parameters.items():
                if p is not None:
                    module._parameters[key] = torch.nn.Parameter(fake(p.detach()), requires_grad=p.requires_grad)
            for key, b in module._buffers.items():
                if b is not None:
                    module._buffers[key] = fake(b)
    elif depth < 2 and type(obj).__module__.startswith("l2obench."):
        for key, value in vars(obj).items():
            setattr(obj, key, fake(value, depth + 1))
    return obj


def set_up(name, solver_name, dataset_params, objective_params, **params):
    bench = Benchmark(ROOT / "benchmarks" / name)
    dataset = bench.get_datasets()[0].get_instance(**dataset_params)
    dataset.get_seed = lambda **kwargs: 0  # outside a benchopt run there is no run context
    objective = bench.get_benchmark_objective().get_instance(**objective_params)
    objective.set_data(**dataset.get_data())
    solver = next(s for s in bench.get_solvers() if s.name == solver_name).get_instance(**params)
    solver.get_seed = lambda **kwargs: 7
    solver.set_objective(**objective.get_objective())
    return objective, solver


@pytest.mark.parametrize("name, solver_name, dataset_params, objective_params, params", [
    ("sparse_analysis", "linearized-admm", dict(n=24, latent_dim=3, m=10, n_train=64, n_test=16),
     dict(dtype="float32", n_calibration=16), dict(transform="difference", device="cpu")),
    ("sparse_analysis", "implicit-admm", dict(n=24, latent_dim=3, m=10, n_train=64, n_test=16),
     dict(dtype="float32", n_calibration=16), dict(backward="jfb", depth=5, n_steps=3, batch_size=16, device="cpu")),
    ("shortest_path", "cost-network", dict(grid=3, n_train=40, n_val=10, n_test=10), dict(dtype="float32"),
     dict(loss="spo-plus", n_steps=4, batch_size=16, device="cpu")),
    ("shortest_path", "dys-net", dict(grid=3, n_train=40, n_val=10, n_test=10), dict(dtype="float32"),
     dict(n_steps=4, batch_size=16, max_iter=20, device="cpu")),
])
def test_the_result_comes_back_on_the_cpu(monkeypatch, tmp_path, name, solver_name, dataset_params,
                                          objective_params, params):
    """What ``set_objective`` moved (the problem, the test inputs, the trained model) is on the fake
    device; ``get_result`` hands every tensor back as a plain CPU tensor, which the objective takes."""
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    objective, solver = set_up(name, solver_name, dataset_params, objective_params, **params)
    assert "device" not in str(solver)  # device=cpu stays out of the name (and the baselines)
    solver.inputs_ = fake(solver.inputs_)
    for attr in ("problem_", "model_"):
        if hasattr(solver, attr):
            fake(getattr(solver, attr))
    solver.run(3)
    assert isinstance(solver.result_, OnFakeDevice)  # the fake device reaches the result
    result = solver.get_result()
    tensors = {k: v for k, v in result.items() if isinstance(v, torch.Tensor)}
    assert solver.result_key in tensors
    assert all(type(v) is torch.Tensor and v.device.type == "cpu" for v in tensors.values()), \
        {k: type(v).__name__ for k, v in tensors.items()}
    assert not objective.evaluate_result(**result)["diverged"]
