from l2obench.solvers.benchopt_adapters import ClassicalSolver

from l2obench.solvers.classical.lasso_sklearn import SklearnLasso


class Solver(ClassicalSolver):
    """scikit-learn's coordinate descent (``cd``) or LARS (``lars``), independent references."""

    name = "sklearn"
    parameters = {"method": ["cd", "lars"]}

    def make_solver(self):
        return SklearnLasso(method=self.method)
