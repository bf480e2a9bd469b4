"""benchmarks/tv_deconvolution/plot_paper_figures.py: the per-depth networks and the diverged label."""
from support import load_script as load


def load_script():
    return load("benchmarks/tv_deconvolution/plot_paper_figures.py", "tv_plot_paper_figures")


def test_train_per_depth_keeps_one_learned_step_network_per_continuation_depth(tmp_path, monkeypatch):
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path))
    pp = load_script()
    data = pp.make_tv_synthetic(120, 10, n_dim=8, n_measurements=5, seed=0)
    lam_tr = 0.1 * pp.TVProblem(data.H).lambda_max(data.X_train)
    models, info = pp.train_per_depth(data, lam_tr, 4, 3)
    assert sorted(models) == pp.continuation_depths(4) == [1, 2, 3, 4]
    for depth, model in models.items():  # distinct trained networks, each of its own depth
        assert model.n_layers == depth and model.weight == "step" and model.n_params() == 2 * depth
    assert models[1].step_[0] is not models[2].step_[0]
    assert not info["diverged"] and info["n_steps"] > 0


def test_a_diverged_training_is_labelled_untrained():
    pp = load_script()
    assert pp.learned_label("LPGD-LISTA[20]", {"diverged": True, "train_time": 3.0}) == \
        "LPGD-LISTA[20]: training diverged, untrained weights shown"
    assert pp.learned_label("LPGD-Taut", {"diverged": False, "train_time": 24.6}) == "LPGD-Taut (train 25 s)"
