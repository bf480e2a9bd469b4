"""The library bases of the benchopt solver adapters, for every benchmark (ARCHITECTURE.md).

A benchmark's objective hands ``problem`` (its problem-interface object) and its splits to the
solvers; its ``benchmark_utils`` says, once, which entries are the test inputs and the training
data (:class:`BenchmarkData`). Then

- a classical adapter is a name, its ``parameters`` and ``make_solver()`` (:class:`ClassicalSolver`);
- a learned adapter is a name, its ``parameters`` (model hyper-parameters and training budget)
  and ``model_class`` (:class:`LearnedSolver`): it trains in ``set_objective``, outside benchopt's
  timed ``run``, on the train split only, through the one fit pipeline
  (:func:`l2obench.solvers.fit.fit`, cached); ``run(n_iter)`` applies the first ``n_iter``
  layers, then the classical iteration past the trained depth; ``get_result`` hands the
  training's outcome (``train_time``, ``n_params``, ``trained_depth``, ``train_diverged``,
  ``train_steps``, ``train_stopped_early``, ``trained_metric``) to the objective, which puts it
  in every row.

Stopping (:mod:`l2obench.solvers.stopping`): classical adapters keep benchopt's default criterion;
a learned adapter runs at least to its trained depth, then stops only when the metric it was
trained for (``BenchmarkData.trained_metrics[loss]``) makes no progress. Both record why the
curve ended in its last row.

Device (:mod:`l2obench.solvers.device`): an adapter that lists ``device`` in its ``parameters``
runs on it (default ``'cpu'``; a missing device fails in ``check_parameters``): the problem and the
data move there once in ``set_objective``, a learned model is trained there (``fit(device=)``),
``warm_up`` runs one iteration first (kernel selection), ``run`` ends with :func:`synchronize`
(benchopt stops its clock when ``run`` returns) and ``get_result`` hands the result back on the
CPU. ``device=cpu`` stays out of the parametrized name, so CPU curves keep their names.

Optimizer (:mod:`l2obench.solvers.optimizers`): every learned adapter accepts ``optimizer``
('adam', the default, 'lbfgs', 'gd-linesearch'), selected as ``-s "SLISTA[optimizer=lbfgs]"``.
benchopt accepts only the parameters a class declares, so :class:`LearnedSolver` declares it for
its subclasses (``["adam"]``, unless they list it) and ``optimizer=adam`` stays out of the name,
as ``device=cpu`` does: the existing curves keep their names.
"""
from benchopt import BaseSolver

from l2obench.datasets.benchopt_checks import CheckedParameters, parametrized_name
from l2obench.objectives.validation import check_choice, check_int

from l2obench.solvers.device import default_device, prepare_device, resolve_device, synchronize, to_cpu, to_device
from l2obench.solvers.fit import check_stagewise, fit, fit_with_continuation
from l2obench.solvers.losses import Loss
from l2obench.solvers.params import param_names
from l2obench.solvers.safeguard import Safeguarded
from l2obench.solvers.stopping import ClassicalCriterion, TrainedDepthCriterion
from l2obench.solvers.training import TrainConfig

# the benchopt values of ``safeguard``: none, the descent test (True), the fixed-point-residual test
SAFEGUARDS = (False, True, "residual")


def benchopt_seed(config_seed, component, repetition=0):
    """The seed ``get_seed(use_repetition=True)`` returns to a ``component`` ('Dataset', 'Objective',
    'Solver') in repetition ``repetition`` of a benchopt run whose config says ``seed: config_seed``.

    A script that draws the data and trains with these seeds computes exactly what ``benchopt run``
    computes (the paper scripts do: their numbers and the parquet agree).
    """
    from benchopt.utils.run_context import RunContext

    return RunContext(base_seed=str(config_seed), repetition=repetition).get_seed(component, use_repetition=True)


def is_per_instance(problem):
    """Whether ``problem`` holds one operator per instance (a fresh matrix per row: Liu et al. 2023)."""
    return bool(getattr(getattr(problem, "datafit", None), "per_instance", False))  # LPs have no data term


CONTINUATION_DEPTHS = (1, 2, 3, 5, 8, 12, 16)  # Ablin et al.'s depths; then the model's own


def continuation_depths(depth):
    """The depths a continuation-trained network of ``depth`` layers is trained at, in order."""
    return [d for d in CONTINUATION_DEPTHS if d < depth] + [depth]


def supports_continuation(model_class):
    """Whether ``model_class`` can be trained by depth continuation: layers seeded from a trained
    shallower model (``init_from``, the unrolled models) and trained by gradient (not a grid search)."""
    return (model_class is not None and hasattr(model_class, "init_from") and "n_layers" in param_names(model_class)
            and not hasattr(model_class, "grid_search"))


VAL_MAX = 1024  # held-out training samples for early stopping / HyperLISTA's grid search


# the training outcome a learned adapter's get_result hands to the objective (classical solvers hand
# none: the defaults), as every objective's evaluate_result writes it in each row
TRAINING_COLUMNS = {"train_time": (float, 0.0), "n_params": (int, 0), "trained_depth": (int, 0),
                    "train_diverged": (bool, False), "train_steps": (int, 0),
                    "train_stopped_early": (bool, False), "trained_metric": (str, "")}


def training_columns(**info):
    """The training columns of a result row from ``info`` (missing ones: a classical solver's defaults)."""
    unknown = set(info) - set(TRAINING_COLUMNS)
    if unknown:
        raise ValueError(f"unknown result entries {sorted(unknown)}; the training columns are {sorted(TRAINING_COLUMNS)}.")
    return {k: cast(info.get(k, default)) for k, (cast, default) in TRAINING_COLUMNS.items()}


class BenchmarkData:
    """Which entries of ``Objective.get_objective()`` the adapters use (override per benchmark).

    Default: the problem is ``problem``; the test inputs ``(X_test, lmbd)``; the training data
    ``(X_train, lmbd_train)`` with targets ``Z_train`` (or None), validation held out of it.
    ``trained_metrics``: the metric of ``Objective.evaluate_result`` each training loss makes
    small (what a learned solver's stopping criterion watches past its trained depth; default:
    the Lasso's). ``classical_progress_key``: what benchopt's default criterion watches for the
    classical solvers (None: they run to max-runs or the timeout).
    """

    result_key = "Z"
    trained_metrics = {"supervised": "nmse_db", "semi-supervised": "nmse_lasso_db", "unsupervised": "value"}
    classical_progress_key = "value"

    def test_inputs(self, objective):
        return objective["X_test"], objective["lmbd"]

    def training_data(self, objective):
        """``(inputs, target, val)``: model inputs, ground truth or None, validation split or None."""
        return (objective["X_train"], objective["lmbd_train"]), objective.get("Z_train"), None


class MeasurementData(BenchmarkData):
    """An inverse problem's data (sparse analysis, CT): test inputs the evaluation batch ``d_eval`` (test
    measurements, then calibration ones), training pairs (d, x*) with their own validation split,
    results ``x``; budgets double (ADMM and TV-min need hundreds of iterations).

    ``value`` (the error to x*) is not what the classical solvers minimise and may rise while they
    converge: they run to max-runs or the timeout instead of stopping on it. The learned models are
    trained on the error to x* (supervised): ``value``.
    """

    result_key = "x"
    classical_progress_key = None
    trained_metrics = {"supervised": "value"}

    def test_inputs(self, objective):
        return (objective["d_eval"],)

    def training_data(self, objective):
        return (objective["d_train"],), objective["x_train"], ((objective["d_val"],), objective["x_val"])

    def get_next(self, stop_val):
        return max(1, 2 * stop_val)


class DeviceMixin:
    """The ``device`` parameter of the solver adapters (read from benchopt's values, default cpu)."""

    def device_name(self):
        """The ``device`` benchopt set (``'cpu'`` when the adapter does not list it)."""
        return self._parameters.get("device", "cpu")

    def set_device(self):
        """Resolve the device when the objective is set (float32 matmuls in full precision on cuda)."""
        self.device_ = prepare_device(self.device_name())
        self._warmup_done = False  # benchopt warms an instance up once; a new objective has other shapes
        return self.device_

    def warm_up(self):
        """One untimed iteration before the timed runs (first-call kernel selection and allocation)."""
        self.run_once(1)

    def run(self, n_iter):
        with default_device(self.device_):
            self.result_ = self.solve(n_iter)
        synchronize(self.device_)  # queued kernels belong to this run's time

    # parameter values left out of benchopt's parametrized name (the defaults that existing curves
    # were named without): CPU curves keep their names (and baselines)
    unnamed_defaults = {"device": "cpu"}

    def __repr__(self):
        return parametrized_name(self.name, self._parameters, self.unnamed_defaults)


class ClassicalSolver(DeviceMixin, CheckedParameters, BenchmarkData, BaseSolver):
    """Adapter for a classical solver with ``solve(problem, *inputs, n_iter)``.

    Subclasses set ``name`` and ``parameters`` and implement ``make_solver()``; a solver that runs
    on another form of the problem (the synthesis form of TV) overrides ``problem_form``.
    """

    sampling_strategy = "iteration"
    requirements = []
    stopping_criterion = ClassicalCriterion()  # benchopt's default, recording why a curve ended

    def make_solver(self):
        raise NotImplementedError

    def check_parameters(self, **parameters):
        """Build the solver and check its hyper-parameters when benchopt creates the adapter, so that a
        bad value fails before any solver runs (``l2obench.datasets.benchopt_checks``)."""
        resolve_device(self.device_name())
        solver = self.make_solver()
        if hasattr(solver, "check"):
            solver.check()

    def problem_form(self, problem):
        return problem

    def skip(self, **objective):
        if is_per_instance(objective["problem"]) and not getattr(self.make_solver(), "per_instance", False):
            return True, f"{self.name} needs one operator for the whole batch; this data set has one per instance"
        return False, None

    def set_objective(self, **objective):
        device = self.set_device()
        self.problem_ = to_device(self.problem_form(objective["problem"]), device)
        self.inputs_ = to_device(self.test_inputs(objective), device)
        self.solver_ = self.make_solver()

    def solve(self, n_iter):
        return self.problem_.to_output(self.solver_.solve(self.problem_, *self.inputs_, n_iter))

    def get_result(self):
        return {self.result_key: to_cpu(self.result_)}


class LearnedSolver(DeviceMixin, CheckedParameters, BenchmarkData, BaseSolver):
    """Adapter for a learned model: ``model_class`` and ``parameters``, nothing else.

    ``parameters`` holds the model's hyper-parameters (the names of ``model_class.__init__``) and
    the training protocol: ``loss``, ``n_steps``, ``lr``, ``batch_size``, ``stagewise``,
    ``continuation``, ``all_layers``, ``device`` and ``optimizer`` (those left out take the class
    defaults below). ``optimizer`` is declared for every subclass (``["adam"]``, unless it lists
    it), so that ``-s "NAME[optimizer=lbfgs]"`` selects another protocol without renaming the
    curves of the default one.
    """

    sampling_strategy = "iteration"
    requirements = []
    stopping_criterion = TrainedDepthCriterion()  # to the trained depth, then the trained metric
    model_class = None
    # defaults of the protocol parameters a subclass leaves out of `parameters` (a class attribute
    # of the same name would hide benchopt's parameter values, so they live in this dict)
    protocol_defaults = dict(loss="supervised", all_layers=False, n_steps=100, lr=1e-3, batch_size=64,
                             stagewise=False, continuation=False, device="cpu", optimizer="adam", safeguard=False)
    # validation schedule of one training run (a subclass may declare ``n_evals`` a parameter)
    n_evals, max_eval_every, patience = 20, None, 10
    schedule = "cosine"  # learning-rate schedule (TrainConfig.schedule)
    grad_clip = None  # global gradient-norm clip of Adam (TrainConfig.grad_clip; Adler & Öktem clip at 1)
    measure_memory = False  # record the peak bytes saved for backward (``peak_memory`` in the metadata)
    unnamed_defaults = {"device": "cpu", "optimizer": "adam", "safeguard": False}

    def __init_subclass__(cls, **kwargs):
        # benchopt rejects a parameter the class does not declare: declare the optimizer (and the
        # safeguard, for models with a step protocol) for every learned adapter; their default values
        # stay out of the curve names (``unnamed_defaults``)
        super().__init_subclass__(**kwargs)
        declared = {name.strip() for key in getattr(cls, "parameters", {}) for name in key.split(",")}
        if "optimizer" not in declared:
            cls.parameters = {**getattr(cls, "parameters", {}), "optimizer": [cls.protocol_defaults["optimizer"]]}
        if "safeguard" not in declared and cls.model_class is not None and hasattr(cls.model_class, "step"):
            cls.parameters = {**cls.parameters, "safeguard": [False]}
        if "continuation" not in declared and supports_continuation(cls.model_class):
            # every unrolled model can be trained per depth (Ablin et al.'s networks); an adapter
            # that declares the parameter itself keeps it in its curve names (SLISTA's baselines)
            cls.parameters = {**cls.parameters, "continuation": [False]}
            cls.unnamed_defaults = {**cls.unnamed_defaults, "continuation": False}

    def protocol(self, name):
        """A training-protocol parameter: its benchopt value, else ``protocol_defaults``."""
        return self._parameters.get(name, self.protocol_defaults[name])

    def trained_metric(self):
        """The metric this solver's loss makes small (``trained_metrics[loss]``)."""
        kind = self.protocol("loss")
        if kind not in self.trained_metrics:
            raise ValueError(f"{type(self).__name__}: loss={kind!r} has no metric in this benchmark's "
                             f"trained_metrics {self.trained_metrics} (declare it in its BenchmarkData).")
        return self.trained_metrics[kind]

    def trained_depth(self):
        """The depth the fitted model was trained at (after ``set_objective``)."""
        return self.info_["trained_depth"]

    def make_model(self, n_layers=None):
        kwargs = {name: self._parameters[name] for name in param_names(self.model_class) if name in self._parameters}
        if n_layers is not None:
            kwargs["n_layers"] = n_layers
        return self.model_class(**kwargs)

    def make_loss(self, seed=0):
        """The training loss of the ``loss`` protocol parameter (a benchmark whose losses are not
        :class:`~l2obench.solvers.losses.Loss` kinds overrides this in its ``BenchmarkData``; ``seed``
        is the training's, for a loss that draws noise)."""
        return Loss(self.protocol("loss"), self.protocol("all_layers"))

    def check_parameters(self, **parameters):
        """Build the model, the loss and the training configuration when benchopt creates the adapter,
        so that a bad hyper-parameter, budget or device fails before any solver runs."""
        resolve_device(self.device_name())
        self.make_model()
        self.make_loss()
        self.trained_metric()
        check_stagewise(self.protocol("stagewise"))  # False, True or 'chen' (fit.STAGEWISE)
        check_choice("continuation", self.protocol("continuation"), (False, True))
        check_choice("safeguard", self.protocol("safeguard"), SAFEGUARDS)
        TrainConfig.for_budget(self.protocol("n_steps"), lr=self.protocol("lr"), batch_size=self.protocol("batch_size"),
                               optimizer=self.protocol("optimizer"), n_evals=self.validation_count())

    def validation_count(self):
        """Validations of one training run: the ``n_evals`` parameter where a subclass declares one,
        else the class attribute."""
        return check_int("n_evals", self._parameters.get("n_evals", self.n_evals), low=1)

    def skip(self, **objective):
        if is_per_instance(objective["problem"]):
            return True, f"{self.name} learns weights for one operator; this data set has one per instance"
        if self.training_data(objective)[0][0] is None:
            return True, f"{self.name} needs a training split of signals; this data set has none"
        if self.protocol("loss") == "supervised" and self.training_data(objective)[1] is None:
            return True, "loss='supervised' needs ground-truth targets; this dataset has none"
        return False, None

    def training_problem(self, objective):
        """The problem the model is built and trained on (default: the test problem's operator)."""
        return objective["problem"]

    def set_objective(self, **objective):
        device = self.set_device()
        problem = to_device(self.training_problem(objective), device)
        self.problem_ = to_device(objective["problem"], device)  # the test instances'
        self.inputs_ = to_device(self.test_inputs(objective), device)
        inputs, target, val = to_device(self.training_data(objective), device)
        n_train = inputs[0].shape[0]
        p = self.protocol
        config = TrainConfig.for_budget(p("n_steps"), lr=p("lr"), batch_size=p("batch_size"),
                                        seed=self.get_seed(use_repetition=True),
                                        n_evals=5 if p("stagewise") else self.validation_count(),
                                        max_eval_every=self.max_eval_every, patience=self.patience,
                                        schedule=self.schedule, optimizer=p("optimizer"),
                                        grad_clip=self.grad_clip if p("optimizer") == "adam" else None)
        options = dict(loss=self.make_loss(config.seed), target=target, config=config, val=val,
                       val_fraction=min(0.1, VAL_MAX / max(n_train, 1)), stagewise=p("stagewise"),
                       measure_memory=self.measure_memory, device=device)
        if p("continuation"):
            depth = self.make_model().n_layers
            depths = continuation_depths(depth)
            self.model_, meta = fit_with_continuation(self.make_model, depths, problem, inputs, **options)
        else:
            self.model_ = self.make_model()
            meta = fit(self.model_, problem, inputs, **options)
        self.model_ = to_device(self.model_, device)  # fitted there already: a no-op safety
        self.meta_ = meta
        self.info_ = {"train_time": float(meta["train_time"]), "n_params": int(meta["n_params"]),
                      "trained_depth": int(meta["trained_depth"]), "train_diverged": bool(meta["diverged"]),
                      "train_steps": int(meta.get("n_steps", 0)),
                      "train_stopped_early": bool(meta.get("stopped_early", False)),
                      "trained_metric": self.trained_metric()}

    def solve(self, n_iter):
        if self.protocol("safeguard"):
            # the classical step on the form the learned steps iterate on (the synthesis form of TV)
            problem = getattr(self.model_, "iterated_", self.problem_)
            test = "residual" if self.protocol("safeguard") == "residual" else "descent"  # True: descent
            safeguarded = Safeguarded(self.model_, test=test)
            Z = safeguarded.solve(problem, *self.inputs_, n_iter)
            self.fallback_rate_ = safeguarded.fallback_rate_
            return problem.to_output(Z)
        return self.model_.solve(*self.inputs_, n_iter)

    def get_result(self):
        result = {self.result_key: to_cpu(self.result_), **self.info_}
        if "safeguard" in self._parameters:  # NaN: not safeguarded (every learned step taken)
            result["fallback_rate"] = float(getattr(self, "fallback_rate_", float("nan")))
        return result

