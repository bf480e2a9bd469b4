from l2obench.solvers.benchopt_adapters import ClassicalSolver

from l2obench.solvers.classical.lasso_oracle_ista import OracleISTA


class Solver(ClassicalSolver):
    """Oracle ISTA (Ablin et al. 2019): step 1/L_S on the current support when safe."""

    name = "OracleISTA"
    parameters = {"n_power": [10], "device": ["cpu"]}

    def make_solver(self):
        return OracleISTA(n_power=self.n_power)
