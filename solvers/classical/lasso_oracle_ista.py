r"""Oracle ISTA (OISTA), Ablin, Moreau, Massias & Gramfort, NeurIPS 2019, Sec. 3.

At :math:`z_k` with support :math:`S`, try the larger step :math:`1/L_S`,
:math:`L_S = \|D_{:,S}\|_2^2`; keep it if the new support stays inside :math:`S` (the
objective is then :math:`L_S`-smooth on the segment), else take the safe step :math:`1/L`.
"The oracle" is the knowledge of :math:`L_S`: here a batched power iteration on the masked
Gram matrix, warm-started across iterations so that it keeps refining while the supports
settle. As in the paper, the cost of the oracle is not the point of this solver; it is a
reference for what adaptive step sizes can gain (and what SLISTA learns).
"""
import torch

from l2obench.objectives.prox import soft_threshold
from l2obench.objectives.validation import check_int


def support_lipschitz(G, mask, v, n_power):
    """Refine the top eigenvector ``v`` of ``G`` restricted to ``mask`` (per row); return (L_S, v)."""
    for _ in range(n_power):
        v = (v * mask) @ G * mask
        # the dtype's tiny, not a float64 constant: 1e-300 is 0 in float32 and an empty support
        # would turn v into 0/0
        v = v / v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny)
    L_S = (((v * mask) @ G) * v * mask).sum(dim=1, keepdim=True)
    return L_S, v


class OracleISTA:
    """ISTA with the oracle support step size of Ablin et al. (2019).

    Parameters
    ----------
    n_power : int
        Power-iteration steps per ISTA iteration for :math:`L_S` (warm-started).
    """

    def __init__(self, n_power=10):
        self.n_power = n_power

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming the bad one); returns self."""
        check_int("n_power", self.n_power, low=1)
        return self

    def solve(self, problem, X, lmbd, n_iter, z0=None):
        """Run ``n_iter`` iterations from ``z0`` (default 0) on a :class:`~l2obench.objectives.lasso.LassoProblem`;
        returns Z (B, n)."""
        n_power = self.check().n_power
        n_iter = check_int("n_iter", n_iter, low=0)
        if getattr(problem.penalty, "weights", None) is not None or problem.penalty.K is not None:
            raise ValueError("OracleISTA solves the unweighted Lasso only.")
        X, lam, z = problem.check_inputs(X, lmbd, z0)
        D = problem.A
        B, n = X.shape[0], D.shape[1]
        L = problem.datafit.lipschitz
        G, XD = problem.datafit.gram, X @ D
        v = torch.ones(B, n, dtype=D.dtype)
        prev_support = None
        for _ in range(n_iter):
            grad = z @ G - XD
            support = z != 0
            mask = support.to(D.dtype)
            # one warm power step always; a full refinement for the samples whose support moved
            # (per sample, so a batch gives the same iterates as its samples one by one)
            moved = torch.ones(B, 1, dtype=torch.bool) if prev_support is None else \
                (support != prev_support).any(dim=1, keepdim=True)
            L_S, v = support_lipschitz(G, mask, torch.where(moved, v + 1e-3 * mask, v), 1)
            if n_power > 1 and bool(moved.any()):
                L_full, v_full = support_lipschitz(G, mask, v, n_power - 1)
                L_S, v = torch.where(moved, L_full, L_S), torch.where(moved, v_full, v)
            prev_support = support
            # an empty support has no oracle step; L_S <= L always holds in exact arithmetic
            L_S = torch.where(support.any(dim=1, keepdim=True), L_S.clamp(1e-12 * L, L), torch.full_like(L_S, L))
            z_oracle = soft_threshold(z - grad / L_S, lam / L_S)
            z_safe = soft_threshold(z - grad / L, lam / L)
            stays = ((z_oracle != 0) & ~support).sum(dim=1, keepdim=True) == 0
            z = torch.where(stays, z_oracle, z_safe)
        return z
