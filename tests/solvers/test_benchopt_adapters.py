"""The library bases of the benchopt adapters: protocol parameters reach the fit pipeline, the
training outcome reaches the result, classical adapters run on the problem's form."""
from pathlib import Path

import pytest
import torch
from benchopt.benchmark import Benchmark

from l2obench.datasets.sparse_coding import make_compressed_sensing
from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers import benchopt_adapters
from l2obench.solvers.benchopt_adapters import ClassicalSolver, LearnedSolver
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.unrolled.lasso.slista import SLISTA

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
LASSO = BENCHMARKS / "lasso"


def objective_dict():
    data = make_compressed_sensing(n_train=40, n_test=8, n_measurements=10, n_atoms=20, seed=0)
    problem = LassoProblem(data.D)
    return dict(problem=problem, X_train=data.X_train, Z_train=data.Z_train, X_test=data.X_test,
                lmbd=0.1 * problem.lambda_max(data.X_test), lmbd_train=0.1 * problem.lambda_max(data.X_train))


def adapter(name, declared=None, **params):
    """The lasso adapter ``name`` built by benchopt; ``declared``: parameters added to its declaration."""
    cls = next(s for s in Benchmark(LASSO).get_solvers() if s.name == name)
    if declared:
        cls = type(f"{cls.__name__}Declared", (cls,), {"parameters": {**cls.parameters, **declared}})
    solver = cls.get_instance(**params)
    solver.get_seed = lambda **kwargs: 7  # outside a benchopt run there is no run context
    return solver


def test_benchopt_parameters_reach_the_fit_pipeline(monkeypatch, tmp_path):
    """A class attribute named like a parameter would hide benchopt's value: the protocol is read
    from the parameters (lr, loss, n_steps here differ from the defaults)."""
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    seen = {}
    real_fit = benchopt_adapters.fit

    def spy(model, problem, inputs, **kwargs):
        seen.update(kwargs, model=model, inputs=inputs)
        return real_fit(model, problem, inputs, **kwargs)
    monkeypatch.setattr(benchopt_adapters, "fit", spy)
    solver = adapter("SLISTA", n_layers=2, loss="unsupervised", n_steps=3, lr=0.5, stagewise=False,
                     continuation=False)
    solver.set_objective(**objective_dict())
    assert isinstance(seen["model"], SLISTA) and seen["model"].n_layers == 2
    assert seen["config"].lr == 0.5 and seen["config"].n_steps == 3 and seen["config"].seed == 7
    assert seen["loss"].kind == "unsupervised" and not seen["stagewise"]
    result = solver.get_result() if solver.run(4) is None else None
    assert result["Z"].shape == (8, 20)
    assert set(result) == {"Z", "train_time", "n_params", "trained_depth", "train_diverged", "train_steps",
                           "train_stopped_early", "trained_metric", "fallback_rate"}
    assert result["fallback_rate"] != result["fallback_rate"]  # NaN: not safeguarded
    assert result["trained_depth"] == 2 and result["n_params"] == 2 and result["train_diverged"] is False
    assert result["train_steps"] == 3 and result["train_stopped_early"] is False
    assert result["trained_metric"] == "value" and solver.trained_depth() == 2


def test_a_diverged_training_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    solver = adapter("SLISTA", n_layers=2, loss="unsupervised", n_steps=20, lr=1e6, stagewise=False,
                     continuation=False)
    solver.set_objective(**objective_dict())
    solver.run(2)
    result = solver.get_result()
    assert result["train_diverged"] is True and result["train_steps"] < 20
    assert not list(tmp_path.glob("*.pt")), "a diverged training must not be cached"


def test_supervised_adapter_is_skipped_without_targets():
    solver = adapter("ALISTA", n_layers=2, loss="supervised", n_steps=2, lr=1e-2, stagewise=False,
                     support_selection=True)
    skip, reason = solver.skip(**{**objective_dict(), "Z_train": None})
    assert skip and "supervised" in reason
    assert solver.skip(**objective_dict()) == (False, None)


def test_classical_adapter_runs_the_solver_on_its_problem_form():
    class Halved(ClassicalSolver):
        name = "halved"
        parameters = {}

        def make_solver(self):
            return ProximalGradient()

        def problem_form(self, problem):
            return LassoProblem(problem.D / 2)

    solver = Halved.get_instance()
    objective = objective_dict()
    solver.set_objective(**objective)
    solver.run(5)
    expected = ProximalGradient().solve(LassoProblem(objective["problem"].D / 2), objective["X_test"],
                                        objective["lmbd"], 5)
    assert torch.equal(solver.get_result()["Z"], expected)


def test_learned_solver_needs_a_model_class():
    class NoModel(LearnedSolver):
        name = "no-model"
        parameters = {}

    with pytest.raises(TypeError):
        NoModel.get_instance().make_model()


@pytest.mark.parametrize("bench, name, params, metric", [
    ("lasso", "ALISTA", dict(loss="supervised"), "nmse_db"),
    ("lasso", "SLISTA", dict(loss="semi-supervised"), "nmse_lasso_db"),
    ("lasso", "SLISTA", dict(loss="unsupervised"), "value"),
    ("tv_deconvolution", "LPGD-Taut", {}, "value"),
    ("sparse_analysis", "implicit-admm", {}, "value"),
])
def test_each_benchmark_declares_the_metric_each_loss_trains_for(bench, name, params, metric):
    cls = next(s for s in Benchmark(BENCHMARKS / bench).get_solvers() if s.name == name)
    assert cls.get_instance(**params).trained_metric() == metric


def test_an_undeclared_loss_is_a_clear_error():
    cls = next(s for s in Benchmark(BENCHMARKS / "tv_deconvolution").get_solvers() if s.name == "LPGD-Taut")
    # checked when benchopt creates the solver, before anything runs
    with pytest.raises(ValueError, match="loss='supervised' has no metric in this benchmark's trained_metrics"):
        cls.get_instance(loss="supervised", all_layers=False)


def test_sparse_analysis_classical_solvers_run_to_max_runs():
    """Its value (error to x*) may rise while ADMM converges: no progress criterion for them."""
    from l2obench.solvers.stopping import ClassicalCriterion, TrainedDepthCriterion

    solvers = {s.name: s for s in Benchmark(BENCHMARKS / "sparse_analysis").get_solvers()}
    admm = solvers["linearized-admm"].get_instance(transform="identity")
    assert isinstance(admm._stopping_criterion, ClassicalCriterion)
    crit = admm._stopping_criterion.get_runner_instance(solver=admm, max_runs=3)
    assert crit.key_to_monitor_ is None and crit.check_convergence([]) == (False, 0)
    assert isinstance(solvers["implicit-admm"]._stopping_criterion, TrainedDepthCriterion)


def test_benchopt_seed_is_the_seed_a_run_gives():
    """Observed in `benchopt run` with `seed: 0`: the lasso data sets and the learned solvers'
    training draw from these seeds; the paper scripts use them to agree with the parquet."""
    from l2obench.solvers.benchopt_adapters import benchopt_seed

    assert benchopt_seed(0, "Solver") == 3485632963
    assert benchopt_seed(0, "Dataset") == 1330975877
    assert benchopt_seed(0, "Dataset", repetition=1) != benchopt_seed(0, "Dataset")


# --- the device parameter (l2obench.solvers.device) ---

def test_device_defaults_to_cpu_and_cpu_keeps_the_names():
    """An adapter that does not list ``device`` runs on the CPU; ``device=cpu`` stays out of the
    parametrized name, so CPU curves keep their names (and baselines); other devices show."""
    from benchopt.utils.parametrized_name_mixin import ParametrizedNameMixin

    class Plain(ClassicalSolver):
        name = "plain"
        parameters = {"step": [1.0]}

        def make_solver(self):
            return ProximalGradient(step=self.step)

    plain = Plain.get_instance()
    assert plain.device_name() == "cpu" and str(plain) == ParametrizedNameMixin.__repr__(plain) == "plain[step=1.0]"
    ista = adapter("ISTA", accelerated=True)
    assert ista.device_name() == "cpu" and str(ista) == "ISTA[accelerated=True,step=1.0]"
    assert "device" not in ista.__dict__ or ista.device == "cpu"  # benchopt's value, not a class attribute
    assert "device" not in vars(ClassicalSolver) and "device" not in vars(LearnedSolver)


@pytest.mark.parametrize("name, params", [("ISTA", {}), ("SLISTA", dict(n_layers=2))])
@pytest.mark.parametrize("device", ["gpu", "cuda:7"])
def test_a_missing_device_fails_when_benchopt_creates_the_adapter(name, params, device):
    with pytest.raises(ValueError, match=r"device.*available here: cpu"):
        adapter(name, device=device, **params)


@pytest.mark.parametrize("name, params", [
    ("ISTA", dict(accelerated=True, device="cpu")),
    ("SLISTA", dict(n_layers=2, loss="unsupervised", n_steps=3, stagewise=False, device="cpu")),
])
def test_run_synchronises_the_device_before_benchopt_stops_its_clock(monkeypatch, tmp_path, name, params):
    """benchopt times ``run`` (its issue #581: no device synchronisation): a fake slow device whose
    queued work ends only at ``synchronize`` shows its time inside ``run``, after the solve."""
    import time

    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    events = []

    def slow_synchronize(device):
        time.sleep(0.05)
        events.append(("synchronize", str(device)))
    monkeypatch.setattr(benchopt_adapters, "synchronize", slow_synchronize)
    solver = adapter(name, **params)
    solver.set_objective(**objective_dict())
    target = solver.solver_ if name == "ISTA" else solver.model_
    real_solve = target.solve
    monkeypatch.setattr(target, "solve", lambda *args: events.append(("solve", args[-1])) or real_solve(*args))
    assert events == [] and solver._warmup_done is False
    solver._warm_up()  # benchopt's call before the timed runs: one untimed iteration
    assert events == [("solve", 1), ("synchronize", "cpu")] and solver._warmup_done
    events.clear()
    start = time.perf_counter()
    solver.run(4)  # as benchopt's run_one_resolution times it
    elapsed = time.perf_counter() - start
    assert events == [("solve", 4), ("synchronize", "cpu")] and elapsed >= 0.05
    assert solver.get_result()["Z"].device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
@pytest.mark.parametrize("name, params", [
    ("ISTA", dict(accelerated=True)),
    ("SLISTA", dict(n_layers=2, loss="unsupervised", n_steps=3, stagewise=False)),
])
def test_the_gpu_gives_the_cpu_result_in_float32(monkeypatch, tmp_path, name, params):
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    results = {}
    for device in ("cpu", "cuda"):
        solver = adapter(name, device=device, **params)
        solver.set_objective(**objective_dict())
        solver._warm_up()
        solver.run(10)
        results[device] = solver.get_result()["Z"]
    assert results["cuda"].device.type == "cpu"
    torch.testing.assert_close(results["cuda"], results["cpu"], rtol=1e-4, atol=1e-5)


# --- the optimizer protocol parameter (l2obench.solvers.optimizers) ---

def test_every_learned_adapter_accepts_an_optimizer_that_stays_out_of_the_default_names():
    """benchopt rejects undeclared parameters: LearnedSolver declares ``optimizer`` for its
    subclasses, and ``optimizer=adam`` stays out of the names (the curves and baselines keep theirs)."""
    for bench in ("lasso", "tv_deconvolution", "sparse_analysis"):
        for cls in Benchmark(BENCHMARKS / bench).get_solvers():
            if issubclass(cls, LearnedSolver):
                assert cls.parameters["optimizer"] == ["adam"], cls.name
    assert "optimizer" not in vars(LearnedSolver) and LearnedSolver.protocol_defaults["optimizer"] == "adam"
    slista = adapter("SLISTA", n_layers=2)
    assert slista.protocol("optimizer") == "adam" and "optimizer" not in str(slista)
    assert str(slista) == "SLISTA[continuation=False,loss=unsupervised,lr=0.01,n_layers=2,n_steps=300,stagewise=False]"
    assert str(adapter("SLISTA", n_layers=2, optimizer="lbfgs")).endswith(",optimizer=lbfgs,stagewise=False]")
    (cls, params), = Benchmark(LASSO).check_solver_patterns(["SLISTA[optimizer=gd-linesearch]"])
    assert params["optimizer"] == "gd-linesearch"


def test_a_bad_optimizer_fails_when_benchopt_creates_the_adapter():
    with pytest.raises(ValueError, match=r"optimizer='sgd' is not allowed; choose one of \['adam', 'gd-linesearch', "
                                         r"'lbfgs'\]"):
        adapter("SLISTA", n_layers=2, optimizer="sgd")


def fit_arguments(monkeypatch, tmp_path):
    """The keyword arguments the adapter's next ``fit`` call receives (filled when it happens)."""
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    seen = {}
    real_fit = benchopt_adapters.fit

    def spy(model, problem, inputs, **kwargs):
        seen.update(kwargs)
        return real_fit(model, problem, inputs, **kwargs)
    monkeypatch.setattr(benchopt_adapters, "fit", spy)
    return seen


@pytest.mark.parametrize("optimizer", ["lbfgs", "gd-linesearch"])
def test_the_optimizer_reaches_the_fit_pipeline(monkeypatch, tmp_path, optimizer):
    seen = fit_arguments(monkeypatch, tmp_path)
    solver = adapter("SLISTA", n_layers=2, loss="unsupervised", n_steps=5, optimizer=optimizer)
    solver.set_objective(**objective_dict())
    assert seen["config"].optimizer == optimizer and seen["config"].n_steps == 5
    solver.run(2)
    result = solver.get_result()
    assert result["train_diverged"] is False and 1 <= result["train_steps"] <= 5


def test_a_declared_n_evals_sets_the_validation_schedule(monkeypatch, tmp_path):
    seen = fit_arguments(monkeypatch, tmp_path)
    # SLISTA's adapter with n_evals declared a parameter, as ct's implicit-L2O declares it
    solver = adapter("SLISTA", {"n_evals": [20]}, n_layers=2, loss="unsupervised", n_steps=8, n_evals=2)
    solver.set_objective(**objective_dict())
    assert seen["config"].eval_every == 4  # 8 steps, 2 validations (the class attribute says 20)
    solver = adapter("SLISTA", n_layers=2, loss="unsupervised", n_steps=8)
    solver.set_objective(**objective_dict())
    assert seen["config"].eval_every == 1  # undeclared: the class attribute (20 validations)


def test_a_bad_n_evals_fails_when_benchopt_creates_the_adapter():
    with pytest.raises(ValueError, match=r"n_evals must be >= 1, got 0"):
        adapter("SLISTA", {"n_evals": [20]}, n_layers=2, n_evals=0)


# --- the stage-wise protocol parameter (l2obench.solvers.fit.STAGEWISE) ---

def test_stagewise_chen_is_selectable_from_benchopt_and_reaches_the_fit_pipeline(monkeypatch, tmp_path):
    """``-s "LISTA-CP[stagewise=chen]"``: benchopt parses the value, the adapter accepts it, names the
    curve by it, and fit trains by Chen et al.'s phases (3 per layer)."""
    (_, params), = Benchmark(LASSO).check_solver_patterns(["LISTA-CP[stagewise=chen]"])
    assert params["stagewise"] == "chen"
    seen = fit_arguments(monkeypatch, tmp_path)
    solver = adapter("LISTA-CP", n_layers=2, n_steps=3, stagewise="chen", support_selection=False)
    assert "stagewise=chen" in str(solver)
    solver.set_objective(**objective_dict())
    assert seen["stagewise"] == "chen"
    solver.run(2)
    result = solver.get_result()
    assert result["train_diverged"] is False and 2 * 3 <= result["train_steps"] <= 2 * 3 * 3


def test_a_bad_stagewise_fails_when_benchopt_creates_the_adapter():
    with pytest.raises(ValueError, match=r"stagewise='paper' is not allowed; choose one of "
                                         r"\['False', 'True', 'chen'\]"):
        adapter("LISTA-CP", n_layers=2, stagewise="paper")


# --- depth continuation for every unrolled model (fit.fit_with_continuation) ---

def test_every_unrolled_adapter_accepts_continuation_that_stays_out_of_the_default_names():
    unrolled = {"LISTA", "LISTA-CP", "TiLISTA", "ALISTA", "SLISTA"}
    for cls in Benchmark(LASSO).get_solvers():
        if cls.name in unrolled:
            assert cls.parameters["continuation"] == [False], cls.name
        elif cls.name in ("HyperLISTA", "L2O-PA"):   # a grid search, a learned optimizer: no depths to continue
            assert "continuation" not in cls.parameters, cls.name
    assert "continuation" not in str(adapter("LISTA-CP", n_layers=2, support_selection=False))
    assert "continuation=True" in str(adapter("LISTA-CP", n_layers=2, support_selection=False, continuation=True))
    assert "continuation=False" in str(adapter("SLISTA", n_layers=2))  # declared by SLISTA itself: named as before


def test_continuation_trains_lista_cp_depth_by_depth(monkeypatch, tmp_path):
    depths = []
    real_fit = benchopt_adapters.fit

    def spy(model, problem, inputs, **kwargs):
        depths.append(model.n_layers)
        return real_fit(model, problem, inputs, **kwargs)
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(benchopt_adapters, "fit", spy)
    monkeypatch.setattr("l2obench.solvers.fit.fit", spy)
    solver = adapter("LISTA-CP", n_layers=4, n_steps=3, stagewise=False, support_selection=False, continuation=True)
    solver.set_objective(**objective_dict())
    assert depths == [1, 2, 3, 4]
    solver.run(4)
    result = solver.get_result()
    assert result["trained_depth"] == 4 and result["train_steps"] == 4 * 3


def test_a_safeguarded_learned_solver_reports_its_fallback_rate(monkeypatch, tmp_path):
    """``safeguard=True`` runs the model through the safeguard (Heaton et al. 2020): an untrained
    SLISTA's layers are ISTA's steps, so the safeguard keeps them (rate 0) and the iterates are
    ISTA's; with ``safeguard`` off the rate is NaN and the name keeps its old form."""
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    objective = objective_dict()
    plain = adapter("SLISTA", n_layers=3, loss="unsupervised", n_steps=1, lr=1e-12)
    guarded = adapter("SLISTA", n_layers=3, loss="unsupervised", n_steps=1, lr=1e-12, safeguard=True)
    assert "safeguard" not in repr(plain) and "safeguard=True" in repr(guarded)
    for solver in (plain, guarded):
        solver.set_objective(**objective)
        solver.run(5)
    assert guarded.get_result()["fallback_rate"] == 0.0
    assert torch.allclose(guarded.get_result()["Z"], plain.get_result()["Z"], atol=1e-6)
    ista = ProximalGradient().solve(objective["problem"], objective["X_test"], objective["lmbd"], 5)
    assert torch.allclose(guarded.get_result()["Z"], ista, atol=1e-5)
    # the fixed-point-residual test (safeguard=residual) is selected by name and runs the same way
    tests = []

    class Recording(benchopt_adapters.Safeguarded):
        def solve(self, *args, **kwargs):
            tests.append(self.test)
            return super().solve(*args, **kwargs)

    monkeypatch.setattr(benchopt_adapters, "Safeguarded", Recording)
    residual = adapter("SLISTA", n_layers=3, loss="unsupervised", n_steps=1, lr=1e-12, safeguard="residual")
    assert "safeguard=residual" in repr(residual)
    for solver in (guarded, residual):
        solver.set_objective(**objective)
        solver.run(5)
    assert tests == ["descent", "residual"] and 0.0 <= residual.get_result()["fallback_rate"] <= 1.0
    with pytest.raises(ValueError, match="safeguard"):
        adapter("SLISTA", n_layers=3, loss="unsupervised", n_steps=1, lr=1e-12, safeguard="greedy")


def test_per_instance_problems_are_recognised_and_problems_without_a_data_term_are_not():
    from l2obench.objectives.lasso import BatchedLassoProblem
    from l2obench.objectives.shortest_path import GridShortestPath

    D = torch.randn(3, 4, 5, dtype=torch.float64)
    assert benchopt_adapters.is_per_instance(BatchedLassoProblem(D))
    assert not benchopt_adapters.is_per_instance(LassoProblem(D[0]))
    assert not benchopt_adapters.is_per_instance(GridShortestPath(3, 5))  # an LP: no data term at all


def test_training_columns_fill_a_classical_row_and_refuse_unknown_entries():
    from l2obench.solvers.benchopt_adapters import TRAINING_COLUMNS, training_columns

    row = training_columns()
    assert set(row) == set(TRAINING_COLUMNS) and row["train_time"] == 0.0 and row["trained_metric"] == ""
    typed = training_columns(train_time=3, n_params=7.0, train_diverged=0)
    assert typed["train_time"] == 3.0 and isinstance(typed["n_params"], int) and typed["train_diverged"] is False
    with pytest.raises(ValueError, match="unknown result entries \\['peak_memory'\\]"):
        training_columns(peak_memory=1)


def test_measurement_data_reads_the_evaluation_batch_and_training_pairs():
    from l2obench.solvers.benchopt_adapters import MeasurementData

    objective = {"d_eval": "E", "d_train": "D", "x_train": "X", "d_val": "DV", "x_val": "XV"}
    data = MeasurementData()
    assert data.test_inputs(objective) == ("E",)
    assert data.training_data(objective) == (("D",), "X", (("DV",), "XV"))
    assert [data.get_next(k) for k in (0, 1, 5)] == [1, 2, 10] and data.result_key == "x"
