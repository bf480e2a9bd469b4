"""Per-instance quadratic data term: one operator per row, against per-row loops and autograd."""
import numpy as np
import pytest
import torch

from l2obench.objectives.batched import BatchedQuadraticDatafit, check_operators, select_instances, step_column
from l2obench.objectives.problem import QuadraticDatafit


def operators(B=4, m=6, n=9, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, m, n, generator=g, dtype=dtype)


def rows(B, d, seed=1):
    return torch.randn(B, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_value_grad_and_lipschitz_match_a_loop_over_rows():
    A = operators()
    f = BatchedQuadraticDatafit(A)
    assert f.per_instance and not QuadraticDatafit.per_instance and f.n_instances == 4
    X, Z = rows(4, 6), rows(4, 9, seed=2).requires_grad_()
    value = f.value(X, Z)
    per_row = [QuadraticDatafit(A[i]) for i in range(4)]
    torch.testing.assert_close(value, torch.cat([q.value(X[i:i + 1], Z[i:i + 1]) for i, q in enumerate(per_row)]))
    (autograd,) = torch.autograd.grad(value.sum(), Z)
    torch.testing.assert_close(f.grad(X, Z.detach()), autograd)
    assert f.lipschitz.shape == (4, 1)
    expected = torch.tensor([[float(torch.linalg.svdvals(A[i])[0] ** 2)] for i in range(4)], dtype=torch.float64)
    torch.testing.assert_close(f.lipschitz, expected, rtol=1e-12, atol=0)
    assert f.lipschitz is f.lipschitz  # cached
    torch.testing.assert_close(f.gram, torch.stack([A[i].T @ A[i] for i in range(4)]))
    torch.testing.assert_close(f.apply(Z.detach()), torch.stack([A[i] @ Z[i].detach() for i in range(4)]))
    torch.testing.assert_close(f.adjoint(X), torch.stack([A[i].T @ X[i] for i in range(4)]))
    with pytest.raises(RuntimeError):  # one row is never broadcast against every operator
        f.value(X[:1], Z[:1].detach())


@pytest.mark.parametrize("shape", [(6, 9), (20, 9)])  # residual form by default, Gram form by default
@pytest.mark.parametrize("form", ["auto", "gram", "residual"])
@pytest.mark.parametrize("per_row", [False, True])
def test_gradient_step_forms_are_the_gradient_step(shape, form, per_row):
    f = BatchedQuadraticDatafit(operators(4, *shape))
    X, Y = rows(4, shape[0]), rows(4, shape[1], seed=2)
    alpha = 0.7 / f.lipschitz if per_row else 0.7 / float(f.lipschitz.max())
    expected = Y - alpha * f.grad(X, Y)
    step = f.gradient_step(X, alpha, form)
    torch.testing.assert_close(step(Y), expected)
    out = torch.empty_like(Y)
    assert step(Y, out=out) is out
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(f.gradient_step(X, alpha, form)(Y, out=out), expected)  # cached weights


def test_gradient_step_without_out_is_differentiable():
    f = BatchedQuadraticDatafit(operators())
    X, Y = rows(4, 6), rows(4, 9, seed=2).requires_grad_()
    for form in ("gram", "residual"):
        (g,) = torch.autograd.grad(f.gradient_step(X, 0.1, form)(Y).sum(), Y)
        torch.testing.assert_close(g, torch.ones_like(Y) - 0.1 * f.grad(torch.zeros_like(X), torch.ones_like(Y)))


def test_learned_steps_are_differentiable_in_both_forms():
    f = BatchedQuadraticDatafit(operators())
    X, Y = rows(4, 6), rows(4, 9, seed=2)
    for form in ("gram", "residual"):
        for _ in range(2):  # a fresh graph at every call (the Gram weights are not cached then)
            log_step = torch.zeros(4, 1, dtype=torch.float64, requires_grad=True)
            alpha = 0.1 * torch.exp(log_step)
            (g,) = torch.autograd.grad(f.gradient_step(X, alpha, form)(Y).sum(), log_step)
            torch.testing.assert_close(g[:, 0], -0.1 * f.grad(X, Y).sum(dim=1))


def test_gram_weights_follow_the_step():
    f = BatchedQuadraticDatafit(operators(4, 20, 9))
    X, Y = rows(4, 20), rows(4, 9, seed=2)
    column = lambda value: torch.full((4, 1), value, dtype=torch.float64)  # noqa: E731
    for alpha in (0.01, column(0.02), 0.03, column(0.04)):
        torch.testing.assert_close(f.gradient_step(X, alpha, "gram")(Y), Y - alpha * f.grad(X, Y))


def test_index_selects_rows_and_carries_the_lipschitz_constants():
    A = operators(5)
    f = BatchedQuadraticDatafit(A, name="D")
    for idx in (torch.tensor([3, 0]), [1, 2], slice(1, 4), torch.tensor([True, False, True, False, False])):
        sub = f.index(idx)
        assert torch.equal(sub.A, A[idx]) and sub.name == "D" and "lipschitz" not in sub.__dict__
    L = f.lipschitz
    sub = f.index(torch.tensor([4, 1]))
    assert "lipschitz" in sub.__dict__
    torch.testing.assert_close(sub.lipschitz, L[[4, 1]])
    for bad in (2, np.int64(2), torch.tensor(2)):
        with pytest.raises(ValueError, match="idx"):
            f.index(bad)
    with pytest.raises(ValueError, match="idx selects no instance"):
        select_instances(f, slice(0, 0))


@pytest.mark.parametrize("A, match", [
    (torch.ones(5, 8), "A must have 3 dimensions"),
    (torch.ones(2, 5, 8, dtype=torch.float16), "A must be float32 or float64"),
    (torch.ones(2, 5, 8, dtype=torch.int64), "A must be float32 or float64"),
    (torch.full((2, 5, 8), float("nan")), "A contains NaN or Inf"),
    (torch.zeros(0, 5, 8), "A must hold at least one non-empty operator"),
    (torch.stack([torch.ones(5, 8), torch.zeros(5, 8)]), "instance 1 is all zero"),
    ([[[1.0]]], "A must be a torch tensor"),
])
def test_bad_operators_name_A(A, match):
    with pytest.raises(ValueError, match=match):
        BatchedQuadraticDatafit(A)


def test_check_operators_names_the_parameter_and_step_column():
    with pytest.raises(ValueError, match="^F must have 3"):
        check_operators("F", torch.ones(3, 3))
    assert step_column(0.5, 3) == 0.5
    assert step_column(torch.ones(3, 1), 3).shape == (3, 1, 1)
    with pytest.raises(ValueError, match="alpha"):
        step_column(torch.ones(2, 1), 3)
    with pytest.raises(ValueError, match="alpha"):
        BatchedQuadraticDatafit(operators()).gradient_step(rows(4, 6), "big")
