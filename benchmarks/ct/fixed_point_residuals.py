"""Does a trained implicit CT model have a fixed point? Its operator iterated past the trained depth.

For the config's implicit-L2O solvers (loaded from the weight cache as ``benchopt run`` trained them,
through the same benchopt objects as ``plot_reconstructions.py``), iterate the learned operator T
from its start on the test measurements and print, at iterations 1, 2, 5, 10, 20, 50, … ``--n-iter``:
the worst relative fixed-point residual ‖T(z) − z‖/‖T(z)‖ (what the forward solve stops on), the
mean relative error and PSNR, and the mean fidelity ratio ‖Ax − d‖/δ_learned. JFB's gradient is the
derivative at a fixed point: a residual that does not fall means the model trained on something
else (``benchmarks/ct/README.md``; ``ImplicitCT``'s ``prox``).

    python benchmarks/ct/fixed_point_residuals.py --config benchmarks/ct/configs/quick.yml --n-iter 400 \
        --solver "implicit-L2O[channels=4,n_blocks=3,prox=[residual,averaged],depth=20,n_steps=30,lr=3e-3,batch_size=8]"
"""
import argparse

import torch
import yaml
from plot_reconstructions import HERE, benchopt_objects

from l2obench.objectives.ct import psnr_ssim
from l2obench.objectives.metrics import relative_error
from l2obench.solvers.implicit.anderson import relative_residual

REPORTED = (1, 2, 5, 10, 20, 50, 100, 200, 400, 1000, 2000)


@torch.no_grad()
def residuals(solver, objective, n_iter):
    model, problem = solver.model_, objective.problem
    d_test, x_true = objective.test
    op = model.operator_
    step, z = op.step_fn(d_test), op.init_state(d_test)
    delta = model.delta(d_test)
    print(f"{solver!r} (trained depth {model.depth}, learned delta / noise bound "
          f"{float((delta / problem.delta(d_test)).mean()):.2f})")
    for k in range(1, n_iter + 1):
        z_new = step(z)
        res = relative_residual(z_new, z)
        z = z_new
        if k in REPORTED or k == n_iter:
            x = op.readout(z)
            err = float(relative_error(x, x_true).mean())
            psnr = float(psnr_ssim(x, x_true, problem.image_shape)[0].mean()) if torch.isfinite(x).all() else float("nan")
            fid = float(((problem.projector.apply(x) - d_test).norm(dim=1) / delta).mean())
            print(f"  it {k:5d}  residual {res:9.2e}  rel. error {err:7.3f}  PSNR {psnr:6.2f}  "
                  f"fidelity / learned delta {fid:6.2f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(HERE / "configs" / "quick.yml"))
    parser.add_argument("--test-set", default="in-distribution", choices=["in-distribution", "shepp-logan"])
    parser.add_argument("--n-iter", type=int, default=400)
    parser.add_argument("--solver", action="append", help="implicit-L2O patterns replacing the config's "
                        "(as benchopt's -s), e.g. \"implicit-L2O[...,prox=[residual,averaged]]\"")
    args = parser.parse_args(argv)
    if args.n_iter < 1:
        parser.error("--n-iter must be >= 1")
    torch.set_num_threads(1)
    with open(args.config) as f:
        config = yaml.safe_load(f)
    config = {**config, "solver": [s for s in args.solver or config["solver"] if s.startswith("implicit-L2O")]}
    if not config["solver"]:
        parser.error(f"{args.config} has no implicit-L2O solver")
    objective, solvers, prepare = benchopt_objects(config, args.test_set)
    for solver in solvers:
        residuals(prepare(solver), objective, args.n_iter)


if __name__ == "__main__":
    main()
