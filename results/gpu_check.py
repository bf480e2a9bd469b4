"""GPU check: a benchmark's quick config on cuda, compared metric by metric with the same run on the CPU.

Usage (each benchmark where a GPU helps has a thin script that calls :func:`main` with its name)::

    python benchmarks/lasso/gpu_check.py              # quick config: cuda against cpu
    python benchmarks/lasso/gpu_check.py --quick      # a tiny subset (one small data set, two solvers)
    python benchmarks/lasso/gpu_check.py --dry-run    # print the two run configs, run nothing
    python benchmarks/lasso/gpu_check.py --device cuda:1 --out-dir gpu_runs   # keep the runs
    python benchmarks/lasso/gpu_check.py --device cpu --quick   # both sides on the CPU (checks the check)
    python benchmarks/sparse_analysis/gpu_check.py --quick      # the same for sparse_analysis
    python -m l2obench.results.gpu_check --benchmark shortest_path --quick   # any registered benchmark

Both sides are ``benchopt run`` of the config (through ``l2obench.results.regression.run_benchmark``:
``BENCHOPT_RAISE_ON_ERROR=1``, no benchopt cache, a fresh trained-weight cache each), restricted to
the solvers whose adapter lists ``device``; the device side sets ``device=<device>`` on each of them.
Every metric of the baseline-shaped tables (times excluded, budgets up to the registry's
``max_budget``) is compared with the CPU run as the reference, within the float32 tolerances of
``l2obench.results.tolerances`` (the regression's ``compare``: learned rows get the looser
learned-float32 slack, because GPU training gives other weights). Exit status 0 when every value
agrees, 1 on a mismatch or a failed run, 2 on a bad option. Without a GPU, the CPU side runs alone
and the script says "no GPU found".
"""
import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from l2obench.results import registry
from l2obench.results.regression import RunError, compare, new_table, print_failures, run_benchmark
from l2obench.results.tables import ResultsError, family
from l2obench.results.tolerances import tolerance

# --quick: a small data set and the solvers with a device parameter, small budgets (seconds of solving)
QUICK = {
    "lasso": dict(dataset=["equiregularized[n_train=256,n_test=32]"],
                  solver=["ISTA[accelerated=True,step=1.0]",
                          "ALISTA[n_layers=4,loss=supervised,n_steps=10,lr=0.01,stagewise=False,"
                          "support_selection=True]"],
                  max_runs=6),
    "sparse_analysis": dict(dataset=["piecewise-constant[n=40,latent_dim=8,m=16,n_train=128,n_test=32,shift=3]"],
                            solver=["linearized-admm[transform=difference]",
                                    "implicit-admm[backward=jfb,init=difference,depth=10,n_steps=10,lr=1e-3,"
                                    "batch_size=32]"],
                            max_runs=5),
    "shortest_path": dict(dataset=["pyepo-grid[grid=3,n_train=64,n_val=32,n_test=32,deg=4,noise_width=0.5]"],
                          solver=["cost-network[loss=spo-plus,n_steps=10,lr=1e-2,batch_size=32]",
                                  "dys-net[n_steps=10,lr=1e-2,batch_size=32,tol=1e-3,max_iter=100]"]),
    "ct": dict(dataset=["phantoms[size=32,n_angles=10,n_train=32,n_test=8,test_set=in-distribution]"],
               objective=["ct[dtype=float32,n_calibration=8]"],
               solver=["TV-min[algorithm=pdhg]", "learned-primal-dual[width=4,n_steps=3,batch_size=8]",
                       "implicit-L2O[channels=2,n_blocks=1,depth=5,n_steps=3,batch_size=8]"],
               max_runs=5),
}
DEVICE_PARAM = re.compile(r",?device=[^,\]]+")


def device_solvers(bench):
    """Names of the benchmark's solvers whose adapter lists ``device`` in its parameters."""
    from benchopt.benchmark import Benchmark

    return {cls.name for cls in Benchmark(bench.path).get_solvers() if "device" in getattr(cls, "parameters", {})}


def with_device(spec, device):
    """``'ISTA[step=1.0]'`` → ``'ISTA[step=1.0,device=cuda]'``; ``'ADMM'`` → ``'ADMM[device=cuda]'``."""
    spec = DEVICE_PARAM.sub("", spec).replace("[]", "").replace("[,", "[")
    return f"{spec[:-1]},device={device}]" if spec.endswith("]") else f"{spec}[device={device}]"


def strip_device(name):
    """A solver name without its ``device=`` parameter (the two sides' names then match)."""
    return DEVICE_PARAM.sub("", name).replace("[,", "[").replace("[]", "")


def plan(bench, device, quick):
    """``(config, cpu_solvers, device_solvers, cpu_only)``: the selections of the two runs."""
    config = yaml.safe_load(bench.config_path.read_text()) or {}
    if quick:
        if bench.name not in QUICK:
            raise ValueError(f"--quick: no quick subset for {bench.name} (add one to QUICK).")
        config = {**config, **QUICK[bench.name]}
    names = device_solvers(bench)
    solvers = [s for s in config.get("solver", []) if family(s) in names]
    cpu_only = [s for s in config.get("solver", []) if family(s) not in names]
    if not solvers:
        raise ValueError(f"no solver of {bench.name}'s config lists a device parameter.")
    return config, solvers, [with_device(s, device) for s in solvers], cpu_only


def comparison_table(reference, other, bench_name):
    """Per metric: values compared, the largest difference, the tolerances applied, failures."""
    keys = ["solver", "dataset", "objective", "budget"]
    merged = reference.merge(other, on=keys, suffixes=("_cpu", "_dev"))
    rows = []
    for m in [c for c in reference.columns if c not in keys + ["learned", "dtype"]]:
        if f"{m}_dev" not in merged:
            continue
        a, b = merged[f"{m}_cpu"].astype(float), merged[f"{m}_dev"].astype(float)
        diff = (a - b).abs()
        tols = sorted({str(tolerance(m, bool(r["learned_cpu"]), r["dtype_cpu"])) for _, r in merged.iterrows()})
        rows.append(dict(metric=m, compared=int((~(a.isna() & b.isna())).sum()),
                         max_abs_diff=float(diff.max()) if diff.notna().any() else 0.0,
                         tolerance=" / ".join(tols)))
    comp = compare(reference, other, bench_name)
    table = pd.DataFrame(rows, columns=["metric", "compared", "max_abs_diff", "tolerance"])
    bad = comp.failures["metric"].value_counts() if not comp.failures.empty else pd.Series(dtype=int)
    table["failures"] = [int(bad.get(m, 0)) for m in table["metric"]]
    return table, comp


def run_side(bench, out_dir, solvers, config, log):
    start = time.perf_counter()
    parquet = run_benchmark(bench, out_dir, solvers=solvers, datasets=config.get("dataset"),
                            max_runs=config.get("max_runs", bench.max_runs), timeout=bench.timeout,
                            cache_dir=Path(out_dir) / "weights_cache", log=log)
    table = new_table(bench, parquet)
    table["solver"] = table["solver"].map(strip_device)
    return table, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-b", "--benchmark", required=True, choices=sorted(registry.BENCHMARKS), metavar="NAME",
                        help="the benchmark to check: " + ", ".join(sorted(registry.BENCHMARKS)))
    parser.add_argument("--device", default="cuda", help="the device side (default cuda)")
    parser.add_argument("--quick", action="store_true", help="a tiny subset of the quick config")
    parser.add_argument("--dry-run", action="store_true", help="print the runs, run nothing")
    parser.add_argument("--out-dir", type=Path, help="keep the runs (parquet, config, log) in this folder")
    args = parser.parse_args(argv)
    from l2obench.solvers.device import resolve_device

    no_gpu = args.device.startswith("cuda") and not torch.cuda.is_available()
    try:
        bench = registry.get([args.benchmark])[0]
        if not no_gpu:
            resolve_device(args.device)
        config, cpu_solvers, dev_solvers, cpu_only = plan(bench, args.device, args.quick)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if no_gpu:
        print(f"no GPU found (torch.cuda.is_available() is False): running the CPU side only, nothing to "
              f"compare (torch {torch.__version__}).")
    print(f"{bench.name}: {bench.config} {'(--quick subset)' if args.quick else ''}")
    print("  datasets: " + "; ".join(config.get("dataset", [])))
    print("  reference (cpu): " + "; ".join(cpu_solvers))
    if not no_gpu:
        print(f"  device ({args.device}): " + "; ".join(dev_solvers))
    if cpu_only:
        print("  not compared (no device parameter): " + "; ".join(cpu_only))
    if args.dry_run:
        return 0
    with tempfile.TemporaryDirectory(prefix="l2obench-gpu-check-") as tmp:
        root = Path(args.out_dir or tmp)
        try:
            cpu, t_cpu = run_side(bench, root / "reference_cpu", cpu_solvers, config, print)
            print(f"reference (cpu) run: {t_cpu:.1f} s ({len(cpu)} rows)")
            if no_gpu:
                return 0
            dev, t_dev = run_side(bench, root / f"device_{args.device.replace(':', '_')}", dev_solvers, config, print)
            print(f"device ({args.device}) run: {t_dev:.1f} s ({len(dev)} rows)")
        except (RunError, ResultsError) as exc:
            print(f"error: a run failed: {exc}", file=sys.stderr)
            return 1
    table, comp = comparison_table(cpu, dev, bench.name)
    with pd.option_context("display.width", 200, "display.float_format", "{:.3g}".format):
        print(f"\n{args.device} against cpu, {comp.n_compared} values (budgets <= {bench.max_budget}):")
        print(table.to_string(index=False))
    for note in comp.notes:
        print(f"note: {note}")
    if not comp.ok:
        print(f"\nMISMATCH: {len(comp.failures)} values outside the float32 tolerances")
        print_failures(comp.failures)
        return 1
    print(f"\nok: every metric of {args.device} agrees with cpu")
    return 0


if __name__ == "__main__":
    sys.exit(main())
