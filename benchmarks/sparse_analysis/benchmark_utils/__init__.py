"""Shared adapter code of the sparse_analysis benchmark (imported by benchopt as ``benchmark_utils``)."""
from l2obench.solvers.benchopt_adapters import BenchmarkData


class SparseAnalysisData(BenchmarkData):
    """Test inputs are the evaluation batch ``d_eval``; training pairs (d, x*) with their own
    validation split; results are ``x``."""

    result_key = "x"
    # `value` (error to x*) is not what ADMM minimises and may rise while it converges (basis
    # pursuit on non-sparse signals): classical solvers run to max-runs / timeout instead of
    # stopping on it. The learned model is trained on the error to x* (supervised): `value`.
    classical_progress_key = None
    trained_metrics = {"supervised": "value"}

    def test_inputs(self, objective):
        return (objective["d_eval"],)

    def training_data(self, objective):
        return (objective["d_train"],), objective["x_train"], ((objective["d_val"],), objective["x_val"])

    def get_next(self, stop_val):
        return max(1, 2 * stop_val)  # ADMM needs hundreds of iterations: double each time
