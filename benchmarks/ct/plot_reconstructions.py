"""The CT figure of Heaton & Wu Fung (2023, Fig. 6): ground truth and every solver's reconstruction of a
few test images, with PSNR / SSIM and the box / fidelity / regulariser certificate labels under each.

The reconstructions come from benchopt's own objects: the config's objective, data set and solvers
are instantiated by benchopt (``Benchmark.check_*_patterns``), given the run context of the
config's seed, and run as ``benchopt run`` runs them (training in ``set_objective`` through the
cached fit pipeline: with the same ``L2OBENCH_CACHE`` the weights ``benchopt run`` trained are
loaded, not retrained). So the numbers under the images are those of the parquet at the same
budget. Classical solvers run ``--budget`` iterations (default 512, the last point of the quick
config's schedule), learned ones their trained depth.

    python benchmarks/ct/plot_reconstructions.py --config benchmarks/ct/configs/quick.yml \
        --test-set in-distribution --output benchmarks/ct/outputs/reconstructions.png
"""
import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from benchopt.benchmark import Benchmark, _list_parametrized_classes  # noqa: E402
from benchopt.utils.run_context import RunContext  # noqa: E402

from l2obench.objectives.ct import LABELS, certificate_labels, properties, psnr_ssim  # noqa: E402

HERE = Path(__file__).resolve().parent
SHORT = {"pass": "P", "warning": "W", "fail": "F"}


def instances(select, patterns):
    return [inst for inst, ok in _list_parametrized_classes(*select(patterns)) if ok]


def benchopt_objects(config, test_set):
    """The config's objective (data set with ``test_set`` loaded) and solvers, as ``benchopt run`` makes
    them; ``prepare(solver)`` sets a solver's objective (training it, or loading it from the cache)."""
    bench = Benchmark(HERE)
    seed = config.get("seed", 0)
    objective = instances(bench.check_objective_filters, config["objective"])[0]
    datasets = [d for d in instances(bench.check_dataset_patterns, config["dataset"]) if d.test_set == test_set]
    if not datasets:
        raise ValueError(f"test_set={test_set!r} is not in the config's data sets {config['dataset']}.")
    dataset = datasets[0]
    solvers = instances(bench.check_solver_patterns, config["solver"])
    RunContext().set_run_context(objective, dataset, solvers[0], 0, seed)
    objective.set_data(**dataset.get_data())
    task = objective.get_objective()

    def prepare(solver):
        RunContext().set_run_context(objective, dataset, solver, 0, seed)
        solver.set_objective(**task)
        return solver
    return objective, solvers, prepare


def reconstruct(config, test_set, budget):
    """``(objective, {solver name: (x, seconds, iterations)})`` on the config's data set with ``test_set``."""
    objective, solvers, prepare = benchopt_objects(config, test_set)
    results = {}
    for solver in solvers:
        prepare(solver)
        n_iter = solver.trained_depth() if hasattr(solver, "trained_depth") else budget
        t0 = time.perf_counter()
        solver.run(n_iter)
        results[repr(solver)] = (torch.as_tensor(solver.get_result()["x"]).to(objective.problem.dtype),
                                 time.perf_counter() - t0, n_iter)
        print(f"{solver!r}: {n_iter} iterations, {results[repr(solver)][1]:.2f} s")
    return objective, results


def title(name, width=28):
    """The solver's name, then its parameters wrapped to ``width`` characters."""
    base, _, params = name.partition("[")
    lines, line = [base], ""
    for p in params.rstrip("]").split(",") if params else []:
        if line and len(line) + len(p) + 1 > width:
            lines.append(line)
            line = ""
        line = f"{line},{p}" if line else p
    return "\n".join(lines + ([line] if line else []))


def figure(objective, results, n_images, output):
    problem, (d_test, x_true) = objective.problem, objective.test
    n_test, shape = x_true.shape[0], problem.image_shape
    cols = [("ground truth", x_true, None)] + [(name, x, n) for name, (x, _, n) in results.items()]
    fig, axes = plt.subplots(n_images, len(cols), figsize=(2.1 * len(cols), 3.0 * n_images + 0.6), squeeze=False)
    for j, (name, x, n_iter) in enumerate(cols):
        test = x[:n_test]
        if n_iter is not None:   # a reconstruction (not the ground truth): its scores and labels
            psnr, ssim = psnr_ssim(test, x_true, shape)
            labels = certificate_labels(properties(test, d_test, problem), (x[n_test:], objective.calibration[0]),
                                        problem)
            fails = " / ".join(f"{100 * float((labels[p] == 2).float().mean()):.0f}" for p in labels)
            print(f"{name}: {n_iter} it., all {n_test} test images: PSNR {float(psnr.mean()):.2f}, "
                  f"SSIM {float(ssim.mean()):.3f}, fail % {'/'.join(labels)} {fails}")
        for i in range(n_images):
            ax = axes[i, j]
            ax.imshow(test[i].reshape(shape).numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
            if i == 0:
                ax.set_title(title(name), fontsize=6)
            if n_iter is not None:
                certs = " ".join(f"{p[0]}:{SHORT[LABELS[int(labels[p][i])]]}" for p in labels)
                ax.set_xlabel(f"{psnr[i]:.1f} dB / {ssim[i]:.3f}\n{certs}", fontsize=7)
    fig.suptitle("CT reconstructions (PSNR / SSIM; certificates b(ox) f(idelity) r(egulariser): "
                 "P pass, W warning, F fail)", fontsize=8)
    fig.tight_layout()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=130)
    print(f"wrote {output}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(HERE / "configs" / "quick.yml"))
    parser.add_argument("--test-set", default="in-distribution", choices=["in-distribution", "shepp-logan"])
    parser.add_argument("--budget", type=int, default=512, help="iterations of the classical solvers")
    parser.add_argument("--n-images", type=int, default=3)
    parser.add_argument("--output", default=str(HERE / "outputs" / "reconstructions.png"))
    args = parser.parse_args(argv)
    if args.budget < 1 or args.n_images < 1:
        parser.error("--budget and --n-images must be >= 1")
    torch.set_num_threads(1)
    with open(args.config) as f:
        config = yaml.safe_load(f)
    objective, results = reconstruct(config, args.test_set, args.budget)
    figure(objective, results, min(args.n_images, objective.n_test), args.output)


if __name__ == "__main__":
    main()
