from benchmark_utils import LassoSolver

from l2obench.solvers.classical.sklearn_lasso import SklearnLasso


class Solver(LassoSolver):
    """scikit-learn's coordinate descent (``cd``) or LARS (``lars``), independent references."""

    name = "sklearn"
    parameters = {"method": ["cd", "lars"]}

    def make_solver(self):
        return SklearnLasso(method=self.method)
