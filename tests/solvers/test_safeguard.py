"""The safeguard: a learned step is kept only where it passes the descent test against the classical
proximal-gradient step, so any model (exact ISTA, garbage, half good) keeps ISTA's guarantee."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.problem import CompositeProblem, L1Penalty
from l2obench.solvers.classical.proximal_gradient import ProximalGradient, prox_grad_step
from l2obench.solvers.classical.reference import certified_solve
from l2obench.solvers.safeguard import Safeguarded
from l2obench.solvers.unrolled.lasso.lista import LISTA
from support import lasso_batch


def _lasso(batch=8, seed=0):
    D, X, lmbd = lasso_batch(batch=batch, seed=seed)
    return LassoProblem(D), X, lmbd


def _classical(problem, X, lam):
    """T(z) = prox(z − ∇f(z)/L) with the problem's own step (per row when L is a (B, 1) tensor)."""
    alpha = 1.0 / problem.datafit.lipschitz
    forward = problem.datafit.gradient_step(X, alpha)
    return lambda Z: prox_grad_step(Z, forward, problem.penalty.prox, lam * alpha)


class Model:
    """The learned-optimizer protocol around ``propose(k, T, Z, gen)`` (T the classical map);
    records the calls it gets."""

    def __init__(self, propose, learned_iterations=None):
        self.propose, self.learned_iterations = propose, learned_iterations
        self.steps, self.masks = [], []

    def init_state(self, problem, X, lam, Z):
        return {"T": _classical(problem, X, lam), "gen": torch.Generator().manual_seed(0)}

    def step(self, k, problem, X, lam, Z, state):
        self.steps.append(k)
        return self.propose(k, state["T"], Z, state["gen"]), state

    def reset(self, state, Z, mask):
        self.masks.append(mask.clone())


def ista(k, T, Z, gen):
    return T(Z)


def garbage(k, T, Z, gen):
    out = Z + 1e3 * torch.randn(Z.shape, generator=gen, dtype=Z.dtype)
    out[0] = float("nan")  # a non-finite candidate is rejected too
    return out


def alternating(k, T, Z, gen):
    """Rows with (row + k) even: two classical steps (never worse than one); the others garbage."""
    good = (torch.arange(Z.shape[0]) + k) % 2 == 0
    return torch.where(good[:, None], T(T(Z)), Z + 10 * torch.randn(Z.shape, generator=gen, dtype=Z.dtype))


def test_an_exact_ista_model_is_always_accepted_and_is_ista():
    problem, X, lmbd = _lasso()
    guard = Safeguarded(Model(ista))
    Z = guard.solve(problem, X, lmbd, 25)
    assert guard.fallback_rate_ == 0 and guard.fallbacks_ == [0] * 25
    torch.testing.assert_close(Z, ProximalGradient().solve(problem, X, lmbd, 25), rtol=0, atol=1e-12)


def test_a_garbage_model_always_falls_back_to_ista():
    problem, X, lmbd = _lasso()
    model = Model(garbage)
    guard = Safeguarded(model)
    Z = guard.solve(problem, X, lmbd, 25)
    assert guard.fallback_rate_ == 1 and guard.fallbacks_ == [8] * 25
    assert torch.isfinite(Z).all()
    torch.testing.assert_close(Z, ProximalGradient().solve(problem, X, lmbd, 25), rtol=0, atol=1e-12)
    assert len(model.masks) == 25 and all(bool(mask.all()) for mask in model.masks)  # every row handed back


def test_half_good_model_is_monotone_and_keeps_the_ista_rate():
    problem, X, lmbd = _lasso()
    ref = certified_solve(problem, X, lmbd, tol=1e-13)
    L, T = problem.datafit.lipschitz, _classical(problem, X, lmbd[:, None])
    K = 30
    iterates = [torch.zeros_like(ref.Z)]
    for k in range(1, K + 1):  # the same seeded model: the k-iteration solve is a prefix of the next
        guard = Safeguarded(Model(alternating))
        iterates.append(guard.solve(problem, X, lmbd, k))
    assert guard.fallbacks_ == [4] * K and guard.fallback_rate_ == 0.5
    F = torch.stack([problem.value(X, Z, lmbd) for Z in iterates])  # (K + 1, B)
    for k in range(K):  # F(z_{k+1}) <= F(T z_k) <= F(z_k) − L/2 ‖T z_k − z_k‖²
        TZ = T(iterates[k])
        F_T = problem.value(X, TZ, lmbd)
        assert torch.all(F[k + 1] <= F_T + 1e-13)
        assert torch.all(F_T <= F[k] - L / 2 * ((TZ - iterates[k]) ** 2).sum(1) + 1e-12)
    # the module docstring's bound: F(z_k) − F* <= 5 L R² / (2 (k + 4)), R >= ‖z_k − z*‖ for every k
    R = torch.stack([(Z - ref.Z).norm(dim=1) for Z in iterates]).amax(dim=0)
    k = torch.arange(1, K + 1, dtype=F.dtype)[:, None]
    assert torch.all(F[1:] - ref.value <= 5 * L * R ** 2 / (2 * (k + 4)))
    assert torch.all(F[-1] - ref.value > 0)  # the bound is checked before convergence, not at F*


def test_learned_iterations_end_in_classical_steps_and_rates_count_learned_steps_only():
    problem, X, lmbd = _lasso()
    model = Model(garbage, learned_iterations=3)
    guard = Safeguarded(model)
    Z = guard.solve(problem, X, lmbd, 7, z0=torch.full((8, 40), 0.1, dtype=torch.float64))
    assert model.steps == [0, 1, 2] and guard.fallbacks_ == [8, 8, 8] and guard.fallback_rate_ == 1
    z0 = torch.full((8, 40), 0.1, dtype=torch.float64)
    torch.testing.assert_close(Z, ProximalGradient().solve(problem, X, lmbd, 7, z0=z0), rtol=0, atol=1e-12)
    Z0 = guard.solve(problem, X, lmbd, 0)
    assert guard.fallbacks_ == [] and guard.fallback_rate_ != guard.fallback_rate_ and not Z0.any()  # NaN: no step


def test_an_unrolled_lista_with_analytic_weights_is_accepted():
    problem, X, lmbd = _lasso()
    model = LISTA(n_layers=5).build(problem)
    guard = Safeguarded(model)
    Z = guard.solve(problem, X, lmbd, 12)
    # its layers are ISTA's steps up to rounding (Gram form here, residual form in the data term)
    assert guard.fallbacks_ == [0] * 5 and guard.fallback_rate_ == 0
    torch.testing.assert_close(Z, ProximalGradient().solve(problem, X, lmbd, 12), rtol=0, atol=1e-12)
    with torch.no_grad():  # "trained" weights: some steps fail the test, the objective never rises
        for W in model.W2_:
            W.mul_(1.3)
    F = [problem.value(X, Safeguarded(model).solve(problem, X, lmbd, k), lmbd) for k in range(1, 8)]
    assert all(torch.all(b <= a) for a, b in zip(F, F[1:]))
    guard.solve(problem, X, lmbd, 5)
    assert 0 < guard.fallback_rate_ < 1


class RowDatafit:
    """½‖x_i − A_i z_i‖² with one operator per row: a (B, 1) tensor Lipschitz constant."""

    per_instance = True

    def __init__(self, A):
        self.A = A
        self.lipschitz = torch.linalg.matrix_norm(A, ord=2)[:, None] ** 2

    def value(self, X, Z):
        return 0.5 * ((X - torch.einsum("bmn,bn->bm", self.A, Z)) ** 2).sum(1)

    def grad(self, X, Z):
        return torch.einsum("bmn,bm->bn", self.A, torch.einsum("bmn,bn->bm", self.A, Z) - X)

    def gradient_step(self, X, alpha, form="auto"):
        return lambda y, out=None: y - alpha * self.grad(X, y)


class RowLasso(CompositeProblem):
    def __init__(self, A):
        super().__init__(RowDatafit(A), L1Penalty())

    @property
    def shape(self):
        return tuple(self.A.shape[1:])


def _row_problem(batch=6, m=15, n=30):
    g = torch.Generator().manual_seed(3)
    A = torch.randn(batch, m, n, generator=g, dtype=torch.float64)
    A *= torch.linspace(0.3, 3.0, batch, dtype=torch.float64)[:, None, None]  # L spans two decades
    X = torch.randn(batch, m, generator=g, dtype=torch.float64)
    return A, X, 0.1 * torch.einsum("bmn,bm->bn", A, X).abs().amax(1)


@pytest.mark.parametrize("propose, rate", [(ista, 0.0), (garbage, 1.0)])
def test_per_row_lipschitz_takes_each_rows_own_step(propose, rate):
    A, X, lmbd = _row_problem()
    problem = RowLasso(A)
    guard = Safeguarded(Model(propose))
    Z = guard.solve(problem, X, lmbd, 20)
    assert guard.fallback_rate_ == rate
    for i in range(A.shape[0]):  # row i is ISTA on its own Lasso, step 1/L_i
        expected = ProximalGradient().solve(LassoProblem(A[i]), X[i:i + 1], lmbd[i:i + 1], 20)
        torch.testing.assert_close(Z[i:i + 1], expected, rtol=0, atol=1e-12)


def test_batched_lasso_problem_if_present():
    lasso = pytest.importorskip("l2obench.objectives.lasso")
    if not hasattr(lasso, "BatchedLassoProblem"):
        pytest.skip("BatchedLassoProblem not in this tree")
    A, X, lmbd = _row_problem()
    problem = lasso.BatchedLassoProblem(A)
    guard = Safeguarded(Model(garbage))
    Z = guard.solve(problem, X, lmbd, 15)
    assert guard.fallback_rate_ == 1
    torch.testing.assert_close(Z, Safeguarded(Model(ista)).solve(RowLasso(A), X, lmbd, 15), rtol=0, atol=1e-10)


def test_bad_input_names_the_parameter():
    problem, X, lmbd = _lasso()
    guard = Safeguarded(Model(ista))
    with pytest.raises(ValueError, match="n_iter"):
        guard.solve(problem, X, lmbd, -1)
    with pytest.raises(ValueError, match="lmbd"):
        guard.solve(problem, X, -lmbd, 3)
    bad = X.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="X"):
        guard.solve(problem, bad, lmbd, 3)
    with pytest.raises(ValueError, match="model.*reset"):
        Safeguarded(ProximalGradient()).solve(problem, X, lmbd, 3)
    with pytest.raises(ValueError, match="model"):
        Safeguarded(object()).solve(problem, X, lmbd, 3)
    with pytest.raises(ValueError, match="learned_iterations"):
        Safeguarded(Model(ista, learned_iterations=-1)).solve(problem, X, lmbd, 3)
    with pytest.raises(ValueError, match="rtol"):
        Safeguarded(Model(ista), rtol=-1e-3).solve(problem, X, lmbd, 3)
    guard = Safeguarded(Model(ista), rtol=0.0).check()
    assert guard.solve(problem, X, lmbd, 3) is not None and guard.fallback_rate_ == 0


def fista_like(k, T, Z, gen):
    """An accelerated proposal: worse than one classical step at first, far better later."""
    return T(T(T(Z))) if k else Z + 0.5 * (T(Z) - Z)


@pytest.mark.parametrize("propose", [ista, fista_like])
def test_residual_test_accepts_what_reduces_the_residual(propose):
    problem, X, lmbd = _lasso()
    guard = Safeguarded(Model(propose), test="residual")
    guard.solve(problem, X, lmbd, 20)
    # ISTA's residual shrinks by more than 1 % a step at first, then the reference runs ahead of it
    assert guard.fallbacks_[0] == 0
    descent = Safeguarded(Model(propose))
    descent.solve(problem, X, lmbd, 20)
    if propose is fista_like:  # the half step loses to T at k = 0: the descent test refuses it
        assert descent.fallbacks_[0] == 8 and guard.fallback_rate_ <= descent.fallback_rate_


def test_residual_test_makes_garbage_ista_and_its_residual_never_exceeds_the_reference():
    problem, X, lmbd = _lasso()
    T = _classical(problem, X, lmbd[:, None])
    guard = Safeguarded(Model(garbage), test="residual")
    Z = guard.solve(problem, X, lmbd, 25)
    assert guard.fallback_rate_ == 1
    torch.testing.assert_close(Z, ProximalGradient().solve(problem, X, lmbd, 25), rtol=0, atol=1e-12)
    # the invariant of the module docstring, R(z_k) <= mu_k, on a model that is good on half the rows
    K, delta = 30, 0.01
    iterates = []
    for k in range(1, K + 1):
        guard = Safeguarded(Model(alternating), test="residual", delta=delta)
        iterates.append(guard.solve(problem, X, lmbd, k))
    z0 = torch.zeros_like(iterates[0])
    mu = (z0 - T(z0)).norm(dim=1)
    assert 0 < guard.fallback_rate_ < 1
    for k, Z in enumerate(iterates):  # mu shrinks on the rows whose step was not the classical one
        previous = z0 if k == 0 else iterates[k - 1]
        took_learned = ~torch.isclose(Z, T(previous), rtol=0, atol=1e-14).all(dim=1)
        mu = torch.where(took_learned, (1 - delta) * mu, mu)
        assert torch.all((Z - T(Z)).norm(dim=1) <= mu * (1 + 1e-12)), k
    assert float((iterates[-1] - T(iterates[-1])).norm(dim=1).max()) < float((z0 - T(z0)).norm(dim=1).min())


def test_residual_test_bad_input():
    problem, X, lmbd = _lasso()
    with pytest.raises(ValueError, match="test"):
        Safeguarded(Model(ista), test="greedy").solve(problem, X, lmbd, 3)
    for delta in (0.0, 1.0, -0.1, 2.0):
        with pytest.raises(ValueError, match="delta"):
            Safeguarded(Model(ista), test="residual", delta=delta).solve(problem, X, lmbd, 3)


def test_residual_test_reuses_the_accepted_steps_classical_image(monkeypatch):
    """When every row took its learned step, T(z_{k+1}) = T(z_L) was computed by the test: one
    classical step per iteration instead of two, and the iterates are unchanged (ISTA's here)."""
    import l2obench.solvers.safeguard as safeguard

    calls = []
    real = safeguard.prox_grad_step
    monkeypatch.setattr(safeguard, "prox_grad_step", lambda *a, **k: calls.append(1) or real(*a, **k))
    problem, X, lmbd = _lasso()
    guard = Safeguarded(Model(ista), test="residual")
    Z = guard.solve(problem, X, lmbd, 10)
    assert guard.fallback_rate_ == 0 and len(calls) == 10 + 1  # T(z_0), then T(z_L) per iteration
    torch.testing.assert_close(Z, ProximalGradient().solve(problem, X, lmbd, 10), rtol=0, atol=1e-12)
