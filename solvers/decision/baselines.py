"""The two reference predictors of predict-then-optimize: the true costs and the mean cost.

Both have the classical solvers' ``solve(problem, *inputs, n_iter)``: ``TrueCosts`` returns the
costs it is given (the true test costs: regret 0, the oracle's bound), ``MeanCosts`` the mean of
the training costs for every instance (the features ignored: what learning must beat).
"""

from l2obench.objectives.validation import check_tensor


class TrueCosts:
    """The true costs, unchanged: their decisions are optimal."""

    def check(self):
        return self

    def solve(self, problem, C, n_iter=None):
        return problem.check_inputs(C)


class MeanCosts:
    """The mean training cost vector for every instance (fitted by :meth:`fit`)."""

    def check(self):
        return self

    def fit(self, C_train):
        C_train = check_tensor("C_train", C_train, ndim=2)
        self.mean_ = C_train.mean(dim=0)
        return self

    def solve(self, problem, U, n_iter=None):
        if not hasattr(self, "mean_"):
            raise ValueError("MeanCosts must be fitted on the training costs first (fit).")
        return self.mean_.expand(U.shape[0], -1).clone()
