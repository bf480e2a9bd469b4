r"""Losses of predict-then-optimize, for every LP of the problem interface with an exact oracle.

A batch is ``(U, C)``: features and true costs; the true decisions :math:`x^\star(c)` and optimal
values :math:`z^\star(c)` come from the problem's oracle per batch (vectorised, cheap). The model
is a :class:`~l2obench.solvers.decision.cost_model.CostNetwork` predicting :math:`\hat c = w_\Theta(u)`.

``'cost-mse'``
    two-stage: :math:`\|\hat c - c\|^2` (mean over entries, PyEPO's two-stage), then the oracle.
``'decision-mse'``
    DYS-net: :math:`\|\hat x - x^\star\|^2` with :math:`\hat x` the model's differentiable decision
    (:class:`~l2obench.solvers.decision.cost_model.DYSNet`, JFB), as in McKenzie et al.'s code.
``'spo-plus'``
    Elmachtoub & Grigas's SPO+ surrogate (PyEPO's ``SPOPlus``).
``'perturbed'``
    Berthet et al.'s perturbed optimizer (PyEPO's ``perturbedOpt``, ``n_samples`` Gaussian draws of
    scale ``sigma``), :math:`\ell_1` to :math:`x^\star` as in McKenzie et al.'s code.
``'blackbox'``
    Vlastelica et al.'s differentiation of blackbox solvers (PyEPO's ``blackboxOpt``, ``lambd``),
    :math:`\ell_1` to :math:`x^\star`.

Every kind validates on the normalised regret of the oracle's decisions (PyEPO's definition;
McKenzie et al. stop on the validation regret): that is what the benchmark reports.
"""
import torch

from l2obench.objectives.validation import check_choice, check_int, check_real
from l2obench.solvers.losses import TrainingLoss

DECISION_KINDS = ("cost-mse", "decision-mse", "spo-plus", "perturbed", "blackbox")


class DecisionLoss(TrainingLoss):
    """A predict-then-optimize training loss (see the module docstring).

    Parameters
    ----------
    kind : {'cost-mse', 'decision-mse', 'spo-plus', 'perturbed', 'blackbox'}
    n_samples, sigma : int, float
        Perturbed optimizer (3 and 1.0 in the paper).
    lambd : float
        Blackbox interpolation (5 in the paper).
    seed : int
        Seed of the perturbed optimizer's noise.
    """

    def __init__(self, kind="cost-mse", n_samples=3, sigma=1.0, lambd=5.0, seed=0):
        self.kind = check_choice("loss", kind, DECISION_KINDS)
        self.n_samples = check_int("n_samples", n_samples, low=1)
        self.sigma = check_real("sigma", sigma, low=0.0, low_open=True)
        self.lambd = check_real("lambd", lambd, low=0.0, low_open=True)
        self.seed = check_int("seed", seed, low=0)
        self._modules = {}

    def get_params(self):
        params = {"kind": self.kind}
        if self.kind == "perturbed":
            params.update(n_samples=self.n_samples, sigma=self.sigma, seed=self.seed)
        if self.kind == "blackbox":
            params["lambd"] = self.lambd
        return params

    def targets(self, problem, inputs, target=None):
        if target is None:
            raise ValueError(f"loss={self.kind!r} needs the true costs of the training instances as targets.")
        return target

    def _pyepo(self, problem):
        """PyEPO's module for this kind on ``problem``'s oracle (built once per problem)."""
        key = problem   # the object, not id(problem): a freed problem's id can be reused by another
        if key not in self._modules:
            from pyepo.func import SPOPlus, blackboxOpt, perturbedOpt

            model = problem.pyepo_model()
            self._modules[key] = {"spo-plus": lambda: SPOPlus(model),
                                  "perturbed": lambda: perturbedOpt(model, n_samples=self.n_samples,
                                                                    sigma=self.sigma, seed=self.seed),
                                  "blackbox": lambda: blackboxOpt(model, lambd=self.lambd)}[self.kind]()
        return self._modules[key]

    def __call__(self, model, U, C, n_layers=None):
        problem = model.problem_
        if self.kind == "cost-mse":
            return ((model.costs(U) - C) ** 2).mean()
        X_true, z_true = problem.solve(C)
        if self.kind == "decision-mse":
            if not hasattr(model, "decide"):
                raise ValueError(f"loss='decision-mse' needs a model with a differentiable decision (DYSNet), "
                                 f"got {type(model).__name__}.")
            return ((model.decide(U) - X_true) ** 2).mean()
        costs, module = model.costs(U), self._pyepo(problem)
        if self.kind == "spo-plus":
            return module(costs, C, X_true, z_true.to(C.dtype)[:, None])
        return (module(costs) - X_true).abs().mean()

    @torch.no_grad()
    def validation(self, model, U, C):
        """Normalised regret of the oracle's decisions on the predicted costs."""
        return torch.tensor(model.problem_.regret(model.costs(U), C), dtype=torch.float64)
