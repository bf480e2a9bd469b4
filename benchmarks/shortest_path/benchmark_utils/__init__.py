"""Shared adapter code of the shortest_path benchmark (imported by benchopt as ``benchmark_utils``)."""
from benchopt.stopping_criterion import SingleRunCriterion

from l2obench.solvers.benchopt_adapters import BenchmarkData
from l2obench.solvers.decision.losses import DECISION_KINDS, DecisionLoss


class ShortestPathData(BenchmarkData):
    """Test inputs are the test features; training pairs (features, true costs) with their own
    validation split; results are predicted ``costs``. Every solver runs once (no iterations: the
    decision is the exact oracle's), and every loss is trained to make the regret (``value``) small."""

    result_key = "costs"
    sampling_strategy = "run_once"
    stopping_criterion = SingleRunCriterion()
    classical_progress_key = None
    trained_metrics = {kind: "value" for kind in DECISION_KINDS}

    def test_inputs(self, objective):
        return (objective["u_test"],)

    def training_data(self, objective):
        return (objective["u_train"],), objective["c_train"], ((objective["u_val"],), objective["c_val"])

    def make_loss(self, seed=0):
        # PyEPO's perturbed optimizer draws its noise from the training's seed (benchopt's)
        return DecisionLoss(self.protocol("loss"), seed=seed % 2 ** 31)

    def get_result(self):
        result = super().get_result()
        if hasattr(self, "meta_"):  # a learned solver: the training time to its best validation regret
            result["time_to_best"] = float(self.meta_.get("time_to_best", self.meta_["train_time"]))
            result["train_best_step"] = int(self.meta_.get("best_step", -1))  # -1: not recorded (old cache entry)
        return result
