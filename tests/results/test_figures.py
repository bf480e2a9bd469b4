"""Figures render from result files, offline, as PNG and PDF; a missing benchmark is skipped."""
import socket

import numpy as np
import pandas as pd
import pytest

from l2obench.results import figures


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
    code = figures.main(["--results", f"tv_deconvolution={parquet}",
                         "--results", f"lasso={tmp_path / 'absent.parquet'}",
                         "--results", f"sparse_analysis={tmp_path / 'absent.parquet'}",
                         "--out", str(tmp_path / "figs")])
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
    code = figures.main([f"--results={name}={absent}" for name in ("lasso", "sparse_analysis", "tv_deconvolution")]
                        + ["--out", str(tmp_path)])
    assert code == 2 and "nothing drawn" in capsys.readouterr().err
