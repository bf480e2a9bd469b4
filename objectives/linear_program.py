r"""Linear programs in standard form, :math:`\min_x c^\top x` s.t. :math:`Ex = b,\ x \ge 0`, batched over costs.

The decision problems of predict-then-optimize (ARCHITECTURE.md, *The problem interface*): the
feasible set is fixed, the cost vector :math:`c` changes per instance and is predicted from
features. A subclass brings the exact oracle :meth:`StandardFormLP.solve` (e.g. a shortest-path
dynamic programme); this class brings what every method of the family needs from the polytope:

- the projection onto the affine set :math:`\{Ex = b\}`, :math:`P(v) = v - E^+(Ev - b)`, from a
  compact SVD of :math:`E` computed once (:math:`E` may be rank deficient: a node–arc incidence
  matrix has rank :math:`|V| - 1`), applied as one matrix product :math:`v(I - VV^\top) + E^+b`;
- the projection onto :math:`\{x \ge 0\}` (the Davis–Yin splitting's two sets,
  :mod:`l2obench.solvers.classical.davis_yin`);
- the objective of the quadratically regularised LP :math:`c^\top x + \tfrac\gamma2\|x\|^2`
  (McKenzie, Heaton & Wu Fung, TMLR 2024) and the regret of a decision (Elmachtoub & Grigas;
  PyEPO's normalised definition :math:`\sum_i (c_i^\top \hat x_i - z^\star_i) / \sum_i |z^\star_i|`).
"""
import torch

from l2obench.objectives.validation import check_choice, check_tensor

REDUCTIONS = ("normalized", "mean", "none")


class StandardFormLP:
    """The polytope :math:`\\{x : Ex = b, x \\ge 0\\}` with batched linear objectives.

    Parameters
    ----------
    E : Tensor (m, n)
        Equality constraints (float64 recommended: the projection is computed in float64).
    b : Tensor (m,)
    """

    def __init__(self, E, b):
        E = check_tensor("E", E, ndim=2).double()
        b = check_tensor("b", b, ndim=1).double()
        if b.shape[0] != E.shape[0]:
            raise ValueError(f"b must have {E.shape[0]} entries (the rows of E), got {b.shape[0]}.")
        self.E, self.b = E, b
        U, S, Vh = torch.linalg.svd(E, full_matrices=False)
        rank = int((S > S.max() * max(E.shape) * torch.finfo(S.dtype).eps).sum())
        U, S, Vh = U[:, :rank], S[:rank], Vh[:rank]
        # P(v) = v (I - V V^T) + E^+ b, one (B, n) x (n, n) product (the projector is symmetric)
        self.affine_projector = torch.eye(E.shape[1], dtype=E.dtype) - Vh.T @ Vh
        self.affine_offset = Vh.T @ ((U.T @ b) / S)
        if torch.linalg.norm(E @ self.affine_offset - b) > 1e-8 * max(1.0, float(torch.linalg.norm(b))):
            raise ValueError("Ex = b has no solution: b is not in the range of E.")
        self.dtype = torch.float64

    @property
    def n_costs(self):
        """Number of decision variables (one cost per variable)."""
        return self.E.shape[1]

    def _copy_with(self, **tensor_kwargs):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.affine_projector = self.affine_projector.to(**tensor_kwargs)
        new.affine_offset = self.affine_offset.to(**tensor_kwargs)
        new.dtype = new.affine_projector.dtype
        return new

    def astype(self, dtype):
        """The same polytope with its projection stored in ``dtype`` (the run's dtype)."""
        return self._copy_with(dtype=dtype)

    def to(self, device):
        """The same polytope with its projection on ``device`` (E and b stay on the host, in float64,
        for the metrics)."""
        return self._copy_with(device=device)

    @staticmethod
    def to_output(X):
        return X

    def fingerprint_tensors(self):
        return self.E, self.b

    def check_inputs(self, C, name="costs"):
        """``C`` a (B, n) float tensor of costs (or decisions)."""
        C = check_tensor(name, C, ndim=2)
        if C.shape[1] != self.n_costs:
            raise ValueError(f"{name} must have {self.n_costs} columns (one per variable), got shape {tuple(C.shape)}.")
        return C

    # -- the two sets of the splitting ----------------------------------------------------------
    def project_affine(self, V):
        """Projection of each row of ``V`` onto :math:`\\{Ex = b\\}`."""
        P, q = self.affine_projector, self.affine_offset
        return torch.addmm(q.to(V.dtype), V, P.to(V.dtype))

    @staticmethod
    def project_nonneg(V):
        """Projection of each row onto :math:`\\{x \\ge 0\\}`."""
        return torch.relu(V)

    # -- objectives and metrics -----------------------------------------------------------------
    def value(self, C, X, gamma=0.0):
        """Per-row :math:`c^\\top x + \\tfrac\\gamma2\\|x\\|^2`."""
        return (C * X).sum(dim=1) + 0.5 * gamma * (X * X).sum(dim=1)

    def infeasibility(self, X):
        """Per-row :math:`\\max(\\|Ex - b\\|_\\infty, \\max_i (-x_i)_+)`."""
        X = X.detach().cpu().double()
        return torch.maximum((X @ self.E.T - self.b).abs().amax(dim=1), torch.relu(-X).amax(dim=1))

    def solve(self, C):
        """The exact oracle: ``(X, objective)``, an optimal vertex per row of ``C``."""
        raise NotImplementedError

    def decision_metrics(self, C_pred, C_true):
        """What the oracle's decisions on the predicted costs are worth on the true costs, from one
        oracle call on each: ``regrets`` (per row, float64), ``regret`` (PyEPO's normalised regret:
        the sum of regrets over the sum of :math:`|z^\\star|`), ``regret_mean`` and
        ``decision_accuracy`` (the share of rows whose decision is the true optimal one)."""
        C_pred, C_true = self.check_inputs(C_pred, "C_pred"), self.check_inputs(C_true, "C_true")
        if C_pred.shape != C_true.shape:
            raise ValueError(f"C_pred and C_true must have the same shape, got {tuple(C_pred.shape)} "
                             f"and {tuple(C_true.shape)}.")
        C_true = C_true.double()
        X_pred, _ = self.solve(C_pred)
        X_true, z_true = self.solve(C_true)
        X_pred = X_pred.double()
        regrets = (C_true * X_pred).sum(dim=1) - z_true
        return {"regrets": regrets, "regret": float(regrets.sum() / z_true.abs().sum().clamp_min(1e-300)),
                "regret_mean": float(regrets.mean()),
                "decision_accuracy": float(((X_pred - X_true).abs().amax(dim=1) < 0.5).double().mean())}

    def regret(self, C_pred, C_true, reduction="normalized"):
        """Regret of the oracle's decisions on the predicted costs, measured on the true costs:
        ``reduction='normalized'`` PyEPO's normalised regret, ``'mean'`` the mean regret, ``'none'``
        one value per row (:meth:`decision_metrics`)."""
        check_choice("reduction", reduction, REDUCTIONS)
        metrics = self.decision_metrics(C_pred, C_true)
        return metrics[{"normalized": "regret", "mean": "regret_mean", "none": "regrets"}[reduction]]

    def decision_accuracy(self, C_pred, C_true):
        """Fraction of rows whose decision on the predicted costs equals the true optimal decision."""
        return self.decision_metrics(C_pred, C_true)["decision_accuracy"]

