"""Figures render from result files, offline, as PNG and PDF; a missing benchmark is skipped; the
break-even and accuracy figures show what :mod:`l2obench.results.breakeven` computes."""
import socket

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from l2obench.results import breakeven, figures, registry
from l2obench.results.tables import tidy


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a figure tried to open a network connection")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def tv_like_rows():
    rows = []
    for solver, learned in (("PGD-analysis[accelerated=False,step=1.0]", False),
                            ("PGD-analysis[accelerated=True,step=1.0]", False),
                            ("LPGD-Taut[n_layers=5,n_steps=100]", True)):
        for b in (0, 1, 2, 3, 4, 6, 9, 13, 19):
            rate = 0.5 if learned else (0.7 if "True" in solver else 0.85)
            rows.append({"solver_name": solver, "dataset_name": "tv-synthetic[n_test=10]",
                         "objective_name": "tv-deconvolution[dtype=float64,reg=0.1]", "idx_rep": 0,
                         "stop_val": b, "time": 1e-4 * (b + 1) * (0.5 if learned else 2.0),
                         "objective_suboptimality": rate ** b, "objective_nmse_db": -b / 2.0,
                         "objective_diverged": False, "objective_train_time": 2.0 if learned else 0.0,
                         "objective_n_params": 20 if learned else 0,
                         "objective_trained_depth": 5 if learned else 0, "p_dataset_n_test": 10})
    return pd.DataFrame(rows)


def test_short_labels_keep_only_what_differs():
    labels = figures.short_labels(["ISTA[accelerated=False,step=1.0]", "ISTA[accelerated=True,step=1.0]",
                                   "ADMM[rho=3.0]"])
    assert labels == {"ISTA[accelerated=False,step=1.0]": "ISTA[accelerated=False]",
                      "ISTA[accelerated=True,step=1.0]": "ISTA[accelerated=True]", "ADMM[rho=3.0]": "ADMM"}


def test_every_figure_renders_offline(tmp_path, no_network, capsys):
    parquet = tmp_path / "tv.parquet"
    tv_like_rows().to_parquet(parquet)
    others = [f"--results={name}={tmp_path / 'absent.parquet'}" for name in registry.BENCHMARKS
              if name != "tv_deconvolution"]
    code = figures.main(["--results", f"tv_deconvolution={parquet}", *others, "--out", str(tmp_path / "figs")])
    assert code == 0
    out = capsys.readouterr().out
    assert "lasso: SKIPPED, no result file" in out
    for stem in ("tv_deconvolution_convergence", "tv_deconvolution_nmse_db", "accuracy_vs_train_time",
                 "break_even"):
        for ext in ("png", "pdf"):
            path = tmp_path / "figs" / f"{stem}.{ext}"
            assert path.stat().st_size > 1000, path
    assert len(pd.read_csv(tmp_path / "figs" / "tv_deconvolution_table.csv")) == 27
    summary = pd.read_csv(tmp_path / "figs" / "break_even.csv")
    assert set(summary["classical_solver"]) == {"PGD-analysis[accelerated=False,step=1.0]",
                                                "PGD-analysis[accelerated=True,step=1.0]"}
    assert np.isfinite(summary["break_even_instances"]).all()


def test_no_results_at_all_is_an_error(tmp_path, capsys):
    absent = tmp_path / "absent.parquet"
    code = figures.main([f"--results={name}={absent}" for name in registry.BENCHMARKS]
                        + ["--out", str(tmp_path)])
    assert code == 2 and "nothing drawn" in capsys.readouterr().err


def test_convergence_legend_whole_learned_curves_from_layer_one_star_at_trained_depth():
    long_name = "LPGD-Taut[all_layers=True,batch_size=64,lr=0.001,n_layers=5,n_steps=100,with_a_long_name=1]"
    df = tv_like_rows()
    learned = df["solver_name"].str.startswith("LPGD")
    df.loc[learned & (df["stop_val"] == 6), "stop_val"] = 5  # the schedule lands on the trained depth
    df.loc[learned, "solver_name"] = long_name
    table = tidy(df)
    fig = figures.convergence_figure(table, "suboptimality")
    try:
        (legend,) = fig.legends
        texts = [t.get_text() for t in legend.get_texts()]
        assert texts == ["PGD-analysis[accelerated=False]", "PGD-analysis[accelerated=True]", "LPGD-Taut",
                         "trained depth"]
        top = fig.axes[0]
        dashed = [line for line in top.get_lines() if line.get_linestyle() == "--"]
        assert len(dashed) == 1 and min(dashed[0].get_xdata()) == 1       # the learned curve: from layer 1
        solid = [line for line in top.get_lines() if line.get_linestyle() == "-"]
        assert all(min(line.get_xdata()) == 0 for line in solid)         # classical: from the start
        (star,) = [line for line in top.get_lines() if line.get_marker() == "*"]
        assert list(star.get_xdata()) == [5]                             # trained depth 5
        # the whole legend is inside what is saved
        fig.canvas.draw()
        box = legend.get_window_extent()
        saved = fig.get_tightbbox(fig.canvas.get_renderer()).transformed(fig.dpi_scale_trans)
        assert saved.x1 >= box.x1 - 1 and saved.y0 <= box.y0 + 1
    finally:
        figures.plt.close(fig)


def curve(solver, points, learned=False, train_time=0.0, trained_depth=0):
    """Tidy rows: points (budget, suboptimality, time for the batch of 100 in s[, {other metrics}])."""
    return [dict(solver=solver, dataset="d[n_test=100]", objective="lasso[reg=0.1]", budget=b, suboptimality=acc,
                 time_s=t, learned=learned, train_time=train_time, trained_depth=trained_depth, diverged=False,
                 p_dataset_n_test=100, **(more[0] if more else {}))
            for b, acc, t, *more in points]


def break_even_summary():
    """One pair per verdict (tests/results/test_breakeven.py's known answers) and a learned curve
    cut before its trained depth."""
    rows = (curve("LISTA", [(0, 1.0, 0.0), (5, 0.01, 0.1)], learned=True, train_time=10.0, trained_depth=5)
            + curve("ISTA", [(0, 1.0, 0.0), (50, 0.009, 1.1)])          # repaid after ~1,000 instances
            + curve("slow", [(0, 1.0, 0.0), (100, 0.05, 3.0)])          # never reaches 0.01
            + curve("fast", [(0, 1.0, 0.0), (1, 0.01, 0.05)])           # 2x faster: inside the spread
            + curve("faster", [(0, 1.0, 0.0), (1, 0.01, 0.01)])         # 10x faster: beyond it
            + curve("SLISTA", [(0, 1.0, 0.0), (13, 0.05, 0.13)], learned=True, train_time=3.0, trained_depth=16))
    return breakeven.break_even(pd.DataFrame(rows).assign(benchmark="lasso"), "suboptimality",
                                lambda row: int(row["p_dataset_n_test"]))


def rows_of(ax):
    """``{y tick label: [texts drawn on that row]}`` of a horizontal bar chart."""
    ticks = {round(t): label.get_text() for t, label in zip(ax.get_yticks(), ax.get_yticklabels())}
    out = {label: [] for label in ticks.values()}
    for text in ax.texts:
        out[ticks[round(text.get_position()[1])]].append(text.get_text())
    return out


def test_break_even_figure_names_each_verdict_with_error_bars_and_lists_the_not_compared():
    summary = break_even_summary()
    assert summary.set_index("classical_solver").loc["fast", "status"].startswith("no measurable difference")
    fig = figures.break_even_figure(summary)
    try:
        (ax,) = fig.axes
        rows = rows_of(ax)
        label = {name: next(k for k in rows if f"vs {name} |" in k) for name in ("ISTA", "slow", "fast", "faster")}
        # its own words, not "never (not faster)" (its sentence says "not faster beyond noise")
        assert rows[label["fast"]] == ["no measurable difference (inside the timing spread)"]
        assert rows[label["faster"]] == ["never (not faster)"]
        assert rows[label["slow"]] == ["never (accuracy not reached)"]
        assert all(k.endswith("| suboptimality") for k in label.values())   # the metric of the pair
        # the learned curve cut before its trained depth: a row of its own, saying why
        (cut,) = [k for k in rows if "SLISTA" in k]
        assert "vs" not in cut and len(rows[cut]) == 1
        assert rows[cut][0].startswith("not compared: its curve ends at budget 13, before its trained depth 16")
        # the finite break-even: a bar at n* with the range of the timing spread as its error bar
        ista = summary.set_index("classical_solver").loc["ISTA"]
        assert ax.get_xscale() == "log"
        (bar,) = [c for c in ax.containers if hasattr(c, "patches")]
        assert [p.get_width() for p in bar.patches] == pytest.approx([ista["break_even_instances"]])
        (err,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        (segment,) = err.lines[2][0].get_segments()
        assert sorted(segment[:, 0]) == pytest.approx([ista["break_even_low"], ista["break_even_high"]])
        assert "assumed" in ax.get_xlabel()   # one timing per point: the spread is the assumed one
    finally:
        figures.plt.close(fig)


def lasso_rows():
    """ALISTA (supervised) far better in NMSE, worse in F - F*; SLISTA (unsupervised); FISTA."""
    rows = []
    for name, train, last in (("ALISTA[loss=supervised,n_layers=16]", 5.0, (16, 2.0, 0.01, {"nmse_db": -35.0})),
                              ("SLISTA[loss=unsupervised,n_layers=16]", 7.0, (16, 1e-3, 0.01, {"nmse_db": -9.0}))):
        rows += curve(name, [(0, 5.0, 0.0, {"nmse_db": 0.0}), last], learned=True, train_time=train,
                      trained_depth=16)
    return rows + curve("FISTA", [(0, 5.0, 0.0, {"nmse_db": 0.0}), (13, 0.4, 0.5, {"nmse_db": -8.5}),
                                  (19, 1e-4, 0.8, {"nmse_db": -9.8})])


def test_accuracy_figure_draws_each_learned_solver_on_the_metric_it_was_trained_for():
    table = pd.DataFrame(lasso_rows())
    points = figures.accuracy_points({"lasso": table}, 16)
    assert set(points.loc[points["solver"].str.startswith("ALISTA"), "metric"]) == {"nmse_db"}
    assert set(points.loc[points["solver"].str.startswith("SLISTA"), "metric"]) == {"suboptimality"}
    assert set(points.loc[points["solver"] == "FISTA", "metric"]) == {"nmse_db", "suboptimality"}
    fig = figures.accuracy_figure({"lasso": table}, 16)
    try:
        panels = {ax.get_title().split("\n")[-1]: ax for ax in fig.axes if ax.get_visible()}
        assert set(panels) == {"nmse_db", "suboptimality"}
        assert "NMSE" in panels["nmse_db"].get_ylabel() and "F(z) − F*" in panels["suboptimality"].get_ylabel()

        def drawn(ax):
            return {tuple(p) for c in ax.collections for p in c.get_offsets()}
        assert (5.0, -35.0) in drawn(panels["nmse_db"])                  # ALISTA on NMSE
        assert all(x != 5.0 for x, _ in drawn(panels["suboptimality"]))  # never on F - F*
        assert (7.0, 1e-3) in drawn(panels["suboptimality"])             # SLISTA on F - F*
        assert panels["nmse_db"].get_yscale() == "linear" and panels["suboptimality"].get_yscale() == "log"
    finally:
        figures.plt.close(fig)


def test_load_tables_carries_the_measured_timing_spread_to_the_break_even_figure(tmp_path, capsys):
    rows = []
    for rep, scale in enumerate([1.0, 1.02, 0.98]):
        for row in lasso_rows():
            rows.append({"solver_name": row["solver"], "dataset_name": row["dataset"], "idx_rep": rep,
                         "objective_name": row["objective"], "stop_val": row["budget"],
                         "time": row["time_s"] * scale, "objective_suboptimality": row["suboptimality"],
                         "objective_nmse_db": row["nmse_db"], "objective_diverged": False,
                         "objective_train_time": row["train_time"], "objective_n_params": 16 * row["learned"],
                         "objective_trained_depth": row["trained_depth"], "p_dataset_n_test": 100})
    path = tmp_path / "lasso.parquet"
    pd.DataFrame(rows).to_parquet(path)
    absent = tmp_path / "absent.parquet"
    tables = figures.load_tables({name: path if name == "lasso" else absent for name in registry.BENCHMARKS})
    assert list(tables) == ["lasso"]
    table = tables["lasso"]
    assert (table["n_timings"] == 3).all()
    at = table[(table["solver"] == "FISTA") & (table["budget"] == 19)].iloc[0]
    assert (at["time_s_min"], at["time_s_max"]) == pytest.approx((0.98 * 0.8, 1.02 * 0.8))
    summary = breakeven.summary(tables)
    assert summary["timing_spread"].dropna().str.startswith("measured").all()
    fig = figures.break_even_figure(summary)
    try:
        assert "fastest to slowest repetition" in fig.axes[0].get_xlabel()
    finally:
        figures.plt.close(fig)
