"""Learned Theta in the implicit linearized-ADMM model N_Theta(d), trained by JFB, IFT or unrolling.

Training (outside benchopt's clock, cached on disk) minimises mean ||N_Theta(d) - x*||^2 with
the suite's training loop; ``depth`` is the forward iteration cap of JFB / IFT and the unrolled
depth, so the three modes share one budget. ``run(n_iter)`` runs ``n_iter`` iterations of the
learned operator (the classical iteration with Theta fixed), past the trained depth too.
"""
from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from l2obench.solvers.implicit.learned_sparse_analysis import build_model, infer, train_model
from l2obench.solvers.training import TrainConfig


class Solver(BaseSolver):
    name = "implicit-admm"
    requirements = []
    sampling_strategy = "iteration"
    # `value` (error to x*) is not what ADMM minimises and may rise while it converges (basis
    # pursuit on non-sparse signals): run to max-runs / timeout instead of stopping on it.
    stopping_criterion = NoCriterion()
    parameters = {"backward": ["jfb", "ift", "unrolled"], "init": ["difference"], "depth": [100],
                  "n_steps": [300], "lr": [1e-3], "batch_size": [64]}
    test_config = {"backward": "jfb", "depth": 5, "n_steps": 3, "batch_size": 16}

    def set_objective(self, A, d_train, x_train, d_val, x_val, d_eval):
        self.model = build_model(A, init=self.init, backward=self.backward, depth=self.depth)
        config = TrainConfig(n_steps=self.n_steps, batch_size=self.batch_size, lr=self.lr,
                             eval_every=max(self.n_steps // 10, 1), patience=0,
                             seed=self.get_seed(use_repetition=True))
        self.meta = train_model(self.model, (d_train, x_train), (d_val, x_val), config)
        self.d_eval = d_eval

    def get_next(self, stop_val):
        return max(1, 2 * stop_val)  # ADMM needs hundreds of iterations: double each time

    def run(self, n_iter):
        self.x = infer(self.model, self.d_eval, n_iter)

    def get_result(self):
        theta = self.model.operator.theta.detach()
        return dict(x=self.x, theta=theta, train_time=self.meta["train_time"],
                    n_params=theta.numel(), peak_memory=self.meta["peak_memory"],
                    trained_depth=self.depth)
