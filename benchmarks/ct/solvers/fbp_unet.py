"""FBP + U-Net post-processing (the paper's baseline, 533,593 parameters at width 32), trained on
the MSE to the phantoms of the train split; one forward pass, whatever the iteration budget."""
from benchmark_utils import CTData

from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.ct.unet import FBPUNet


class Solver(CTData, LearnedSolver):
    name = "FBP-UNet"
    model_class = FBPUNet
    parameters = {"width": [32], "n_steps": [2000], "lr": [1e-3], "batch_size": [16],
                  "device": ["cpu"]}  # or "cuda"
    test_config = {"width": 4, "n_steps": 3, "batch_size": 8}
    n_evals, patience = 20, 0
