"""PyEPO's ``optModel`` interface on the suite's exact grid shortest-path oracle.

PyEPO (Tang & Khalil) ships its losses (SPO+, perturbed optimizer, blackbox) and its regret
against an ``optModel``; its shortest-path model needs Gurobi, which is not installed here. This
subclass of PyEPO's problem-level base keeps PyEPO's arcs and answers ``setObj`` / ``solve`` with
:meth:`l2obench.objectives.shortest_path.GridShortestPath.solve` (imported lazily: PyEPO takes
about a second to import).
"""
import numpy as np
import torch
from pyepo.model.bases import shortestPathBase
from pyepo.model.opt import optModel


class PyEPOGridShortestPath(shortestPathBase, optModel):
    """PyEPO's ``shortestPathModel`` on the suite's dynamic programme (minimisation).

    ``problem``: the :class:`~l2obench.objectives.shortest_path.GridShortestPath` whose oracle to
    call (built from ``k`` when None, as PyEPO's ``rebuild`` does from :meth:`get_config`).
    """

    def __init__(self, k, problem=None):
        if problem is None:
            from l2obench.objectives.shortest_path import GridShortestPath

            problem = GridShortestPath(k)
        elif problem.k != k:
            raise ValueError(f"problem is a {problem.k} x {problem.k} grid, not {k} x {k}.")
        self._problem = problem
        self._cost = None
        super().__init__((k, k))

    def get_config(self):
        # what PyEPO's rebuild (its multi-process pools) needs: the grid side, not the problem's tensors
        return {"k": self.grid[0]}

    def _getModel(self):
        return None, list(range(len(self.arcs)))

    def setObj(self, c):
        c = c.detach().cpu().numpy() if isinstance(c, torch.Tensor) else np.asarray(c, dtype=float)
        if c.shape != (self.num_cost,):
            raise ValueError(f"c must have {self.num_cost} entries (one per arc), got shape {c.shape}.")
        self._cost = c

    def solve(self):
        if self._cost is None:
            raise ValueError("setObj must be called before solve.")
        X, obj = self._problem.solve(torch.as_tensor(self._cost, dtype=torch.float64)[None])
        return X[0].numpy(), float(obj[0])
