"""Shared adapter code of the sparse_analysis benchmark (imported by benchopt as ``benchmark_utils``)."""
from l2obench.solvers.benchopt_adapters import MeasurementData


class SparseAnalysisData(MeasurementData):
    """Test inputs ``d_eval`` = [test; shifted test; calibration], training pairs (d, x*) with their own
    validation split, results ``x`` (``MeasurementData``)."""
