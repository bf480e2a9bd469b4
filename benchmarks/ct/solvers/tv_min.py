"""TV-min: min ||grad x||_1 s.t. ||Ax - d|| <= delta(d), x in [0, 1]^n, by PDHG or linearized ADMM.

Both are the suite's algorithms on the problem's splitting (``l2obench.solvers.classical.pdhg``,
``linearized_admm``); linearized ADMM is the implicit model's operator with K = grad and the
l1 prox. ``run(n_iter)`` runs ``n_iter`` iterations from the clipped FBP.
"""
from benchmark_utils import CTData

from l2obench.objectives.validation import check_choice, check_real
from l2obench.solvers.benchopt_adapters import ClassicalSolver
from l2obench.solvers.classical.linearized_admm import LinearizedADMM
from l2obench.solvers.classical.pdhg import PDHG

# dual_weight w: PDHG's primal step tau = 1/w (in units of 1/||K||, dual step sigma = w / ||K||); linearized
# ADMM's penalty alpha = w with lam = 1/w, beta = 0.45/w (alpha*lam = 1, alpha*beta*2 = 0.9). A heavy
# dual side reaches the noise ball fast: at 64 x 64, w = 100 brings both to the solution (relative error
# 0.029) in ~500 iterations, w = 1 leaves the fidelity ratio at 1.6-1.8 after 512
ALGORITHMS = {"pdhg": lambda s: PDHG(tau=1.0 / s.dual_weight),
              "linearized-admm": lambda s: LinearizedADMM(alpha=s.dual_weight, beta=0.45 / s.dual_weight,
                                                          lam=1.0 / s.dual_weight)}


class Solver(CTData, ClassicalSolver):
    name = "TV-min"
    parameters = {"algorithm": ["pdhg", "linearized-admm"], "dual_weight": [100.0],
                  "device": ["cpu"]}  # or "cuda"

    def make_solver(self):
        check_choice("algorithm", self.algorithm, tuple(ALGORITHMS))
        check_real("dual_weight", self.dual_weight, low=0.0, low_open=True)
        return ALGORITHMS[self.algorithm](self)
