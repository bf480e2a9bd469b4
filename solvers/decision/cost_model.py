r"""Cost networks of predict-then-optimize, and DYS-net (McKenzie, Heaton & Wu Fung, TMLR 2024).

A :class:`CostNetwork` maps the features :math:`u` of an instance to the costs
:math:`w_\Theta(u)` of a linear program of the problem interface
(:class:`~l2obench.objectives.linear_program.StandardFormLP`); its decision is the LP's exact
oracle on those costs, :math:`x(w_\Theta(u))`. The network is the paper's: Linear(p → h) →
LeakyReLU(0.1) → Linear(h → n) with h = 10·p. How it is trained is the loss's business
(:mod:`l2obench.solvers.decision.losses`): costs by MSE (two-stage), SPO+, a perturbed or a
blackbox optimizer through the oracle.

:class:`DYSNet` adds a differentiable decision: the fixed point of the Davis–Yin operator of the
quadratically regularised LP (:class:`~l2obench.solvers.classical.davis_yin.DavisYinOperator`) in
the suite's :class:`~l2obench.solvers.implicit.fixed_point.FixedPointLayer`, forward to a
tolerance and JFB backward; trained on the decision (``loss='decision-mse'``), evaluated like every
cost network through the exact oracle (the paper's test-time forward).
"""
import torch
from torch import nn

from l2obench.objectives.validation import check_choice, check_int, check_real
from l2obench.solvers.classical.davis_yin import DavisYinOperator, check_davis_yin
from l2obench.solvers.implicit.fixed_point import BACKWARDS, FixedPointLayer
from l2obench.solvers.params import HyperParams


class CostNetwork(HyperParams, nn.Module):
    """:math:`w_\\Theta(u)`: Linear(p → hidden) → LeakyReLU → Linear(hidden → n).

    Parameters
    ----------
    hidden : int or None
        Width of the hidden layer (None: 10 × the number of features, the paper's).
    negative_slope : float
        LeakyReLU slope (0.1 in DYS-net's code).
    """

    def __init__(self, hidden=None, negative_slope=0.1):
        super().__init__()
        self.hidden = None if hidden is None else check_int("hidden", hidden, low=1)
        self.negative_slope = check_real("negative_slope", negative_slope, low=0.0, high=1.0)

    def build(self, problem):
        """Create the layers for ``problem`` (its ``n_features`` and ``n_costs``), seeded by torch's
        global generator as usual (``fit`` fingerprints the initial weights)."""
        n_features = getattr(problem, "n_features", None)
        if n_features is None:
            raise ValueError(f"{type(problem).__name__} has no n_features: a cost network needs the "
                             "feature dimension of its instances (GridShortestPath(k, n_features=...)).")
        self.problem_ = problem
        hidden = self.hidden or 10 * n_features
        self.net_ = nn.Sequential(nn.Linear(n_features, hidden), nn.LeakyReLU(self.negative_slope),
                                  nn.Linear(hidden, problem.n_costs)).to(problem.dtype)
        return self

    def _check_features(self, U):
        if U.ndim != 2 or U.shape[1] != self.problem_.n_features:
            raise ValueError(f"features must have shape (B, {self.problem_.n_features}), got {tuple(U.shape)}.")
        return U

    def costs(self, U):
        """Predicted costs :math:`w_\\Theta(u)` (B, n)."""
        return self.net_(self._check_features(U))

    def forward(self, U):
        return self.costs(U)

    @torch.no_grad()
    def solve(self, U, n_iter=None):
        """Predicted costs of the test features (the decision is the oracle's on them)."""
        return self.costs(U)

    def trained_depth(self):
        return 1

    def lr_groups(self, params):
        return list(params)


class DYSNet(CostNetwork):
    """A cost network followed by the Davis–Yin fixed-point layer (DYS-net).

    Parameters
    ----------
    hidden, negative_slope :
        See :class:`CostNetwork`.
    alpha, gamma : float
        Step size and quadratic regularisation of the Davis–Yin operator (0.05 and 5e-4 in the
        paper's code).
    tol : float
        Relative fixed-point residual of the forward solve.
    max_iter : int
        Iteration cap of the forward solve.
    backward : {'jfb', 'ift', 'unrolled'}
        'jfb' in the paper.
    """

    def __init__(self, hidden=None, negative_slope=0.1, alpha=0.05, gamma=5e-4, tol=1e-3, max_iter=1000,
                 backward="jfb"):
        super().__init__(hidden, negative_slope)
        self.alpha, self.gamma = check_davis_yin(alpha, gamma)
        self.tol = check_real("tol", tol, low=0.0)
        self.max_iter = check_int("max_iter", max_iter, low=1)
        self.backward = check_choice("backward", backward, BACKWARDS)

    def build(self, problem):
        super().build(problem)
        self.layer_ = FixedPointLayer(DavisYinOperator(problem, self.alpha, self.gamma), backward=self.backward,
                                      max_iter=self.max_iter, tol=self.tol)
        return self

    def decide(self, U):
        """The differentiable decision :math:`P_{\\ge 0}(z^\\star)` for the predicted costs."""
        return self.layer_.operator.readout(self.layer_(self.costs(U)))
