"""Regret and training time against the grid size, every method, beside McKenzie et al.'s numbers.

    .venv/bin/python benchmarks/shortest_path/plot_regret_vs_grid.py [--quick | --parquet RUN.parquet [RUN2.parquet ...]]

Without ``--parquet`` it runs ``benchopt run benchmarks/shortest_path`` (``configs/full.yml``, or
with ``--quick`` the quick config on the 5 × 5 and 10 × 10 grids) and reads benchopt's own parquet:
the figure shows exactly the numbers of that run. Writes to ``benchmarks/shortest_path/outputs/``:

* ``regret_vs_grid.png`` — normalised test regret (PyEPO's definition) and training time to the
  best validation regret against k, one line per method; the published means of three runs
  (McKenzie, Heaton & Wu Fung, TMLR 2024, as reported by their fpo-dys repository) as open markers;
* ``regret_vs_grid.csv`` — the same numbers, with the published ones beside ours.
"""
import argparse
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "outputs"
# normalised test regret, mean of 3 runs (fpo-dys README): k -> value
PUBLISHED = {
    "dys-net": {5: 0.088, 10: 0.116, 20: 0.112, 30: 0.116},
    "perturbed": {5: 0.093, 10: 0.234, 20: 0.479, 30: 0.771},
    "blackbox": {5: 0.557, 10: 0.657, 20: 0.823, 30: 0.906},
}
# training time to the best validation regret (s, on a GPU), the paper's table: k -> seconds
PUBLISHED_TIME = {"dys-net": {5: 68, 30: 446}, "perturbed": {5: 51, 30: 1832}, "blackbox": {5: 25, 30: 1140}}
METHODS = {  # benchopt solver name prefix -> label
    "dys-net": "DYS-net (JFB)",
    "cost-network[loss=perturbed": "perturbed optimizer",
    "cost-network[loss=blackbox": "blackbox",
    "cost-network[loss=spo-plus": "SPO+",
    "cost-network[loss=cost-mse": "two-stage (cost MSE)",
    "mean-cost": "mean cost",
}
PUBLISHED_KEY = {"DYS-net (JFB)": "dys-net", "perturbed optimizer": "perturbed", "blackbox": "blackbox"}


def method_of(solver):
    """The label of a benchopt solver name (parameters sorted as benchopt writes them)."""
    if solver.startswith("cost-network"):
        loss = solver.split("loss=")[1].split(",")[0].rstrip("]")
        return METHODS.get(f"cost-network[loss={loss}")
    return next((label for prefix, label in METHODS.items() if solver.startswith(prefix)), None)


def tidy(parquets):
    """One row per (method, k) of one or more benchopt result files: test regret, path accuracy,
    time to best validation, train time."""
    parquets = [parquets] if isinstance(parquets, (str, Path)) else parquets
    df = pd.concat([pd.read_parquet(p) for p in parquets], ignore_index=True)
    df["method"] = df["solver_name"].map(method_of)
    df = df[df["method"].notna()].copy()
    df["k"] = df["p_dataset_grid"].astype(int)
    # a training whose best validation regret is its initial one returned its initial weights
    # (result files written before that column: no improvement means no time to a best point)
    inferred = ((df.get("objective_train_steps", 0) > 0) & (df["objective_time_to_best"] == 0)).astype(float)
    recorded = df.get("objective_train_no_improvement", pd.Series(float("nan"), index=df.index))
    df["no_improvement"] = recorded.astype(float).fillna(inferred)
    cols = {"objective_regret": "regret", "objective_path_accuracy": "path_accuracy",
            "objective_time_to_best": "time_to_best", "objective_train_time": "train_time",
            "no_improvement": "no_improvement"}
    out = df.groupby(["method", "k"])[list(cols)].mean().rename(columns=cols).reset_index()
    out["no_improvement"] = out["no_improvement"] > 0
    for column, published in (("published_regret", PUBLISHED), ("published_time_to_best", PUBLISHED_TIME)):
        out[column] = [published.get(PUBLISHED_KEY.get(m), {}).get(k) for m, k in zip(out["method"], out["k"])]
    return out.sort_values(["method", "k"])


def figure(table):
    fig, (ax_r, ax_t) = plt.subplots(1, 2, figsize=(11, 4.2))
    stuck_label = "initial weights kept (no step improved validation)"
    for i, (method, rows) in enumerate(table.groupby("method", sort=False)):
        color = f"C{i}"
        ax_r.plot(rows["k"], rows["regret"], "o-", color=color, label=method)
        pub = rows.dropna(subset=["published_regret"])
        if len(pub):
            ax_r.plot(pub["k"], pub["published_regret"], "o--", mfc="none", color=color, alpha=0.7)
        stuck = rows[rows["no_improvement"]]
        if len(stuck):
            ax_r.plot(stuck["k"], stuck["regret"], "x", color="k", ms=10, label=stuck_label)
            stuck_label = None  # one legend entry
        if method != "mean cost":  # time to best is undefined where no step improved
            trained = rows[~rows["no_improvement"]]
            ax_t.plot(trained["k"], trained["time_to_best"], "o-", color=color, label=method)
    ax_r.set(xlabel="grid side k (k × k grid)", ylabel="normalised test regret",
             title="regret (filled: this run; open, dashed: published)")
    ax_t.set(xlabel="grid side k", ylabel="training time to best validation regret (s)", yscale="log",
             title="training time (CPU here; the paper's was a GPU)")
    ax_r.legend(fontsize=8)
    fig.tight_layout()
    return fig


def run_benchopt(quick, out):
    config = HERE / "configs" / ("quick.yml" if quick else "full.yml")
    cmd = [sys.executable, "-m", "benchopt", "run", str(HERE), "--config", str(config), "--no-plot",
           "--output", str(out)]
    if quick:
        cmd += ["-d", "pyepo-grid[grid=[5,10],n_train=200,n_val=100,n_test=100]"]
    out.unlink(missing_ok=True)  # benchopt never overwrites: it would write a suffixed file
    subprocess.run(cmd, check=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet", type=Path, nargs="+", help="finished benchopt runs of this benchmark")
    parser.add_argument("--quick", action="store_true", help="run the quick config on k = 5 and 10")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    parquets = args.parquet or [run_benchopt(args.quick, OUT / ("grid_quick.parquet" if args.quick else "full.parquet"))]
    table = tidy(parquets)
    if table.empty:
        print(f"error: {[str(p) for p in parquets]} hold no run of this benchmark's methods.", file=sys.stderr)
        return 2
    table.to_csv(OUT / "regret_vs_grid.csv", index=False)
    figure(table).savefig(OUT / "regret_vs_grid.png", dpi=150)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {OUT / 'regret_vs_grid.png'} and {OUT / 'regret_vs_grid.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
