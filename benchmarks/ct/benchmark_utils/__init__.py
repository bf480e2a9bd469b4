"""Shared adapter code of the ct benchmark (imported by benchopt as ``benchmark_utils``)."""
from l2obench.solvers.benchopt_adapters import MeasurementData


class CTData(MeasurementData):
    """Test inputs ``d_eval`` = [test; calibration measurements], training pairs (d, x*) with their own
    validation split, results ``x`` (``MeasurementData``)."""
