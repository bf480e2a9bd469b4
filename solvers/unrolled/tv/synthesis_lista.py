r"""LISTA on the synthesis form of TV deconvolution (Gregor & LeCun 2010; the synthesis baseline
of Cherkaoui, Sulam & Moreau, NeurIPS 2020).

With :math:`A = HI` (:math:`I` the discrete integration) and weights :math:`w = (0, 1, \dots, 1)`,
layer :math:`k` is

.. math:: u_{k+1} = \mathrm{ST}\big(xW_1^k + u_kW_2^k,\ \lambda\theta_k w\big), \qquad z = Iu,

with untied learned :math:`W_1^k` (m, n), :math:`W_2^k` (n, n), :math:`\theta_k`: the Lasso's
untied :class:`~l2obench.solvers.unrolled.lasso.lista.LISTA`, whose layers iterate on the weighted
Lasso :class:`~l2obench.objectives.tv_deconvolution.TVSynthesisProblem` instead (the weights enter
through that problem's prox). With the analytic weights a layer is ISTA's step on it; past the
trained depth the model continues with synthesis ISTA. The model's output is the signal
:math:`z = Iu`, and its loss is the analysis objective.
"""
from l2obench.objectives.tv_deconvolution import synthesis_problem
from l2obench.solvers.unrolled.lasso.lista import LISTA


class TVSynthesisLISTA(LISTA):
    """Synthesis LISTA; see the module docstring. Parameters: ``n_layers`` (depth T)."""

    def iteration_problem(self, problem):
        return synthesis_problem(problem.A)
