"""The one unrolled base: analytic layers are proximal-gradient steps, the classical iteration
continues past the depth, depth continuation, gradients, input checks, for every model."""
import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.tv_deconvolution import TVProblem
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.unrolled.base import Unrolled
from l2obench.solvers.unrolled.lasso.registry import MODELS, make_model
from l2obench.solvers.unrolled.lasso.slista import SLISTA
from l2obench.solvers.unrolled.tv.lpgd import LPGDTaut
from l2obench.solvers.unrolled.tv.lpgd_lista import LPGDLISTA
from l2obench.solvers.unrolled.tv.synthesis_lista import TVSynthesisLISTA
from support import lasso_batch as _problem


def _tv_problem(batch=8, seed=0, reg=0.1):
    d = make_tv_synthetic(2, batch, seed=seed)
    problem = TVProblem(d.H)
    return problem, d.X_test, reg * problem.lambda_max(d.X_test)


TV_MODELS = {"lpgd-taut": LPGDTaut, "lpgd-lista": lambda n_layers: LPGDLISTA(n_layers, n_inner=3),
             "synthesis-lista": TVSynthesisLISTA}
ALL_MODELS = sorted(MODELS) + sorted(TV_MODELS)


def _build(name, n_layers, seed=0):
    """An untrained model of ``name`` built on its problem, with a batch and its λ."""
    if name in TV_MODELS:
        problem, X, lmbd = _tv_problem(seed=seed)
        return TV_MODELS[name](n_layers=n_layers).build(problem), problem, X, lmbd
    D, X, lmbd = _problem(seed=seed)
    problem = LassoProblem(D)
    return make_model(name, n_layers=n_layers).build(problem), problem, X, lmbd


ISTA_EQUIVALENT = [("lista", {}), ("lista-cp", {}), ("tilista", {}),
                   ("alista", {"weight": "dictionary", "support_selection": False}), ("slista", {})]


@pytest.mark.parametrize("name, kwargs", ISTA_EQUIVALENT)
def test_analytic_weights_reproduce_ista_iterates(name, kwargs):
    D, X, lmbd = _problem()
    problem = LassoProblem(D)
    model = make_model(name, n_layers=6, **kwargs).build(problem)
    with torch.no_grad():
        for k in range(1, 7):
            expected = ProximalGradient(accelerated=False).solve(problem, X, lmbd, k)
            assert torch.allclose(model(X, lmbd, n_layers=k), expected, atol=1e-6, rtol=0)
    # past the trained depth the model continues with classical ISTA
    assert torch.allclose(model.solve(X, lmbd, 15), ProximalGradient().solve(problem, X, lmbd, 15), atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_solve_past_the_depth_continues_the_last_layer_with_proximal_gradient(name):
    model, problem, X, lmbd = _build(name, n_layers=3)
    with torch.no_grad():  # "trained" weights: the layers are no longer gradient steps
        for p in model.parameters():
            p.mul_(1.1)
        if hasattr(model, "c_"):
            model.c_.copy_(torch.tensor([0.05, 0.01, 0.1], dtype=model.c_.dtype))
    Z3 = model.solve(X, lmbd, 3)
    with torch.no_grad():
        assert torch.equal(model(X, lmbd), Z3)
    iterated = model.iterated_
    for extra in (1, 5):
        expected = iterated.to_output(ProximalGradient().solve(iterated, X, lmbd, extra, z0=iterated.from_output(Z3)))
        assert torch.allclose(model.solve(X, lmbd, 3 + extra), expected, atol=1e-12, rtol=0)
    assert model.solve(X, lmbd, 0).abs().max() == 0


def test_forward_rejects_a_depth_beyond_the_model():
    D, X, _ = _problem()
    with pytest.raises(ValueError, match="n_layers"):
        make_model("lista", n_layers=2).build(LassoProblem(D))(X, 0.1, n_layers=3)


@pytest.mark.parametrize("name", ["lista", "lista-cpss", "tilista", "alista", "slista"])
def test_gradcheck_tiny_float64_model(name):
    D, X, lmbd = _problem(m=4, n=6, batch=3, seed=5, reg=0.05)
    model = make_model(name, n_layers=2).build(LassoProblem(D))
    names = [n for n, _ in model.named_parameters()]
    inputs = tuple(p.detach().clone().requires_grad_(True) for p in model.parameters())

    def forward(*values):
        return torch.func.functional_call(model, dict(zip(names, values)), (X, lmbd))

    assert torch.autograd.gradcheck(forward, inputs, eps=1e-7, atol=1e-5)


def test_init_from_copies_per_layer_tensors_and_refuses_other_models():
    D, _, _ = _problem()
    problem = LassoProblem(D)
    # per-layer tensors of LISTA-CP are copied whole; another class or a deeper source is refused
    cp3 = make_model("lista-cp", n_layers=3).build(problem)
    with torch.no_grad():
        cp3.W_[2].mul_(2.0)
    cp4 = make_model("lista-cp", n_layers=4).build(problem)
    cp4.init_from(cp3)
    assert torch.equal(cp4.W_[2], cp3.W_[2]) and not torch.equal(cp4.W_[3], cp3.W_[2])
    with pytest.raises(ValueError, match="init_from"):
        cp3.init_from(cp4)
    deep = SLISTA(n_layers=5).build(problem)
    with pytest.raises(ValueError, match="init_from"):
        deep.init_from(cp3)
    with pytest.raises(ValueError, match="init_from.*not built"):  # it would silently copy nothing
        deep.init_from(SLISTA(n_layers=3))
    # a per-layer vector (SLISTA's steps) is copied row by row; the new rows keep their init
    shallow = SLISTA(n_layers=3).build(problem)
    with torch.no_grad():
        shallow.log_step_.copy_(torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64))
    deep.init_from(shallow)
    assert torch.equal(deep.log_step_[:3], shallow.log_step_) and not deep.log_step_[3:].any()


@pytest.mark.parametrize("name", ALL_MODELS)
def test_solve_names_the_bad_input(name):
    model, problem, X, lmbd = _build(name, n_layers=2)
    with pytest.raises(ValueError, match="lmbd"):
        model.solve(X, -lmbd, 3)
    with pytest.raises(ValueError, match="lmbd"):
        model.solve(X, -0.1, 3)
    with pytest.raises(ValueError, match="lmbd"):
        model.solve(X, float("nan"), 1)
    bad = X.clone()
    bad[1, 0] = float("nan")
    with pytest.raises(ValueError, match="X"):
        model.solve(bad, lmbd, 3)
    with pytest.raises(ValueError, match="X"):
        model.solve(X[:, :-1], lmbd, 1)
    with pytest.raises(ValueError, match="n_iter"):
        model.solve(X, lmbd, -1)
    with torch.no_grad(), pytest.raises(ValueError, match="X"):
        model(bad, lmbd)
    # forward checks with gradients on too (torch's default): NaN in, no silent NaN out
    with pytest.raises(ValueError, match="X contains NaN"):
        model(bad, lmbd)
    with pytest.raises(ValueError, match="X must hold at least one signal"):
        model(X[:0], lmbd[:0])


@pytest.mark.parametrize("name", ALL_MODELS)
def test_build_is_required_and_takes_a_problem(name):
    model, problem, X, lmbd = _build(name, n_layers=2)
    fresh = type(model)(**model.get_params())
    with pytest.raises(RuntimeError, match="build"):
        fresh.solve(X, lmbd, 1)
    with pytest.raises(ValueError, match="problem"):
        fresh.build(problem.A)  # the old API took the operator


@pytest.mark.parametrize("name", ALL_MODELS)
def test_model_reports_its_depth_and_size(name):
    model, _, _, _ = _build(name, n_layers=3)
    assert model.trained_depth() == 3 and model.n_layers == 3
    assert isinstance(model, Unrolled) and model.n_params() > 0
    assert model.lipschitz_ == pytest.approx(model.iterated_.datafit.lipschitz) and isinstance(model.lipschitz_, float)
    assert torch.equal(model.A_, model.iterated_.A)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_the_learned_optimizer_protocol_runs_the_layers_one_by_one(name):
    model, problem, X, lmbd = _build(name, n_layers=3)
    with torch.no_grad():  # "trained" weights: the layers are no longer gradient steps
        for p in model.parameters():
            p.mul_(1.1)
    iterated = model.iterated_
    Xc, lam, Z = iterated.check_inputs(X, lmbd)
    assert model.learned_iterations == 3
    with torch.no_grad():
        state = model.init_state(iterated, Xc, lam, Z)
        for k in range(3):
            Z, state = model.step(k, iterated, Xc, lam, Z, state)
            assert model.reset(state, Z, torch.zeros(Z.shape[0], dtype=torch.bool)) is state
        assert torch.equal(iterated.to_output(Z), model(X, lmbd))
        with pytest.raises(ValueError, match="k=3 is past the model's learned layers"):
            model.step(3, None, Xc, lam, Z, state)
        with pytest.raises(ValueError, match="k=-1"):
            model.step(-1, None, Xc, lam, Z, state)


def test_the_protocol_takes_the_iterated_problem_only():
    model, problem, X, lmbd = _build("lista", n_layers=2)
    Xc, lam, Z = problem.check_inputs(X, lmbd)
    state = model.init_state(LassoProblem(problem.D.clone()), Xc, lam, Z)  # an equal problem is the same one
    model.step(0, None, Xc, lam, Z, state)
    with pytest.raises(ValueError, match="problem must be None or the problem the layers iterate on"):
        model.init_state(LassoProblem(2 * problem.D), Xc, lam, Z)
    with pytest.raises(ValueError, match="problem"):
        model.step(0, TVProblem(problem.D), Xc, lam, Z, state)
    synthesis, tv, X, lmbd = _build("synthesis-lista", n_layers=2)
    Xc, lam, U = synthesis.iterated_.check_inputs(X, lmbd)
    with pytest.raises(ValueError, match="model.iterated_"):  # the analysis problem is not the iterated form
        synthesis.init_state(tv, Xc, lam, U)
    synthesis.step(0, synthesis.iterated_, Xc, lam, U, synthesis.init_state(synthesis.iterated_, Xc, lam, U))
