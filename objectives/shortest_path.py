r"""Shortest paths on a k × k grid: the decision problem of the ``shortest_path`` benchmark.

PyEPO's grid (Tang & Khalil; McKenzie, Heaton & Wu Fung, TMLR 2024): nodes :math:`v = ik + j`,
directed arcs to the right :math:`(v, v+1)` and down :math:`(v, v+k)` in PyEPO's order, so
:math:`|E| = 2k(k-1)`; a path from the top-left node to the bottom-right one is a vertex of the
flow polytope :math:`\{x : Ex = b, x \ge 0\}` (:math:`E` the node–arc incidence matrix,
:math:`b = e_{\text{source}} - e_{\text{sink}}`).

The exact oracle: every arc goes right or down, so the graph is acyclic and ordered by
anti-diagonals :math:`i + j = s`; the dynamic programme
:math:`d(i, j) = \min(d(i, j-1) + c_{\rightarrow}, d(i-1, j) + c_{\downarrow})` runs over the
:math:`2k - 2` anti-diagonals, vectorised over the batch and the cells of a diagonal (no loop over
samples), and the path is read back by the same number of vectorised steps. Costs must be
non-negative only for the interpretation; the DP is exact for any real costs on this DAG.
Tests check it against scipy's Dijkstra and against the flow LP solved by HiGHS.

:meth:`GridShortestPath.pyepo_model` wraps the oracle in PyEPO's ``optModel`` interface, so that
PyEPO's SPO+, perturbed and blackbox losses and its regret run on it (PyEPO's own model needs
Gurobi).
"""
import numpy as np
import torch

from l2obench.objectives.linear_program import StandardFormLP
from l2obench.objectives.validation import check_int

MAX_GRID = 200


def check_grid(k):
    """The grid side ``k`` (a k × k grid), 2 ≤ k ≤ MAX_GRID."""
    return check_int("grid", k, low=2, high=MAX_GRID)


def grid_arcs(k):
    """PyEPO's arcs of the k × k grid: ``(source, target)`` pairs, row by row."""
    arcs = []
    for i in range(k):
        arcs += [(i * k + j, i * k + j + 1) for j in range(k - 1)]
        if i < k - 1:
            arcs += [(i * k + j, (i + 1) * k + j) for j in range(k)]
    return arcs


class GridShortestPath(StandardFormLP):
    """Shortest top-left → bottom-right paths on the k × k grid, batched over cost vectors.

    Parameters
    ----------
    k : int
        Grid side (PyEPO's ``grid=(k, k)``).
    n_features : int, optional
        Feature dimension of the instances when the costs are predicted from features
        (predict-then-optimize); None for the bare decision problem.
    """

    def __init__(self, k, n_features=None):
        self.k = check_grid(k)
        self.n_features = None if n_features is None else check_int("n_features", n_features, low=1)
        self.arcs = np.array(grid_arcs(self.k))
        n_nodes, n_arcs = self.k * self.k, len(self.arcs)
        E = torch.zeros(n_nodes, n_arcs, dtype=torch.float64)
        E[self.arcs[:, 0], np.arange(n_arcs)] = 1.0
        E[self.arcs[:, 1], np.arange(n_arcs)] = -1.0
        b = torch.zeros(n_nodes, dtype=torch.float64)
        b[0], b[-1] = 1.0, -1.0
        super().__init__(E, b)
        # the DP's tables, once: per anti-diagonal its nodes and, for each, the node and arc it is
        # entered from on the left and from above (a sentinel node at +inf / a zero-cost arc when none)
        k, n_nodes = self.k, self.k * self.k
        self._from_left_arc = np.full(n_nodes, n_arcs)
        self._from_up_arc = np.full(n_nodes, n_arcs)
        for e, (u, v) in enumerate(self.arcs.tolist()):
            (self._from_left_arc if v == u + 1 else self._from_up_arc)[v] = e
        self._diagonals = []
        for s in range(1, 2 * k - 1):
            i = np.arange(max(0, s - k + 1), min(s, k - 1) + 1)
            nodes = i * k + (s - i)
            left = np.where(s - i >= 1, nodes - 1, n_nodes)
            up = np.where(i >= 1, nodes - k, n_nodes)
            self._diagonals.append((nodes, left, self._from_left_arc[nodes], up, self._from_up_arc[nodes]))

    def solve(self, C):
        """Exact shortest paths: ``(X, objective)``, X (B, |E|) 0/1 in ``C``'s dtype, objective float64.

        numpy on the host (the DP's steps are small: numpy's per-call cost is a fraction of torch's,
        which matters for PyEPO's one-instance calls); the result is on ``C``'s device.
        """
        C = self.check_inputs(C)
        Cn = C.detach().cpu().double().numpy()
        B, k, n_nodes, n_arcs = Cn.shape[0], self.k, self.k * self.k, self.n_costs
        Cpad = np.concatenate([Cn, np.zeros((B, 1))], axis=1)
        dist = np.full((B, n_nodes + 1), np.inf)
        dist[:, 0] = 0.0
        came_down = np.zeros((B, n_nodes), dtype=bool)
        for nodes, left, left_arc, up, up_arc in self._diagonals:
            from_left = dist[:, left] + Cpad[:, left_arc]
            from_up = dist[:, up] + Cpad[:, up_arc]
            came_down[:, nodes] = from_up < from_left
            dist[:, nodes] = np.minimum(from_left, from_up)
        X = np.zeros((B, n_arcs + 1))
        rows, node = np.arange(B), np.full(B, n_nodes - 1)
        for _ in range(2 * k - 2):
            down = came_down[rows, node]
            X[rows, np.where(down, self._from_up_arc[node], self._from_left_arc[node])] = 1.0
            node = np.where(down, node - k, node - 1)
        X = torch.from_numpy(X[:, :n_arcs]).to(device=C.device, dtype=C.dtype)
        return X, torch.from_numpy(dist[:, n_nodes - 1]).to(C.device)

    def pyepo_model(self):
        """This oracle as a PyEPO ``optModel`` (for PyEPO's losses and ``metric.regret``)."""
        from l2obench.objectives.shortest_path_pyepo import PyEPOGridShortestPath

        return PyEPOGridShortestPath(self.k, problem=self)
