"""StandardFormLP: the affine projection against a float64 pseudo-inverse, rank-deficient and
inconsistent constraints, the regret's reductions (on a simplex with an argmin oracle), input
checks and dtype conversion."""
import pytest
import scipy.linalg
import torch

from l2obench.objectives.linear_program import StandardFormLP

DT = torch.float64


class Simplex(StandardFormLP):
    """{x >= 0, sum(x) = 1}: the oracle picks the cheapest coordinate."""

    def __init__(self, n):
        super().__init__(torch.ones(1, n, dtype=DT), torch.ones(1, dtype=DT))

    def solve(self, C):
        C = self.check_inputs(C)
        X = torch.nn.functional.one_hot(C.argmin(dim=1), self.n_costs).to(C.dtype)
        return X, C.double().amin(dim=1)


def _constraints(seed=0, m=4, n=9, rank=None):
    g = torch.Generator().manual_seed(seed)
    if rank is None:
        E = torch.randn(m, n, generator=g, dtype=DT)
    else:
        E = torch.randn(m, rank, generator=g, dtype=DT) @ torch.randn(rank, n, generator=g, dtype=DT)
    b = E @ torch.randn(n, generator=g, dtype=DT)
    return E, b, torch.randn(7, n, generator=g, dtype=DT)


@pytest.mark.parametrize("rank", [None, 2], ids=["full-rank", "rank-deficient"])
def test_affine_projection_is_the_pseudo_inverse_projection(rank):
    E, b, V = _constraints(m=5 if rank else 4, rank=rank)
    lp = StandardFormLP(E, b)
    P = lp.project_affine(V)
    reference = V - (V @ E.T - b) @ torch.linalg.pinv(E).T                 # v - E^+(Ev - b)
    lstsq = V - torch.linalg.lstsq(E, (V @ E.T - b).T, driver="gelsd").solution.T
    torch.testing.assert_close(P, reference, rtol=0, atol=1e-12)
    torch.testing.assert_close(P, lstsq, rtol=0, atol=1e-11)
    torch.testing.assert_close(P @ E.T, b.expand(7, -1), rtol=0, atol=1e-12)   # feasible
    torch.testing.assert_close(lp.project_affine(P), P, rtol=0, atol=1e-12)     # idempotent
    null = torch.from_numpy(scipy.linalg.null_space(E.numpy()))
    assert null.shape[1] == E.shape[1] - (rank or E.shape[0])
    assert float(((V - P) @ null).abs().max()) < 1e-12                          # v - P(v) ⟂ null(E)


def test_inconsistent_or_mismatched_constraints_raise():
    E = torch.tensor([[1.0, 1.0, 0.0], [2.0, 2.0, 0.0]], dtype=DT)               # rank 1
    StandardFormLP(E, torch.tensor([1.0, 2.0], dtype=DT))                         # b in range(E)
    with pytest.raises(ValueError, match="no solution"):
        StandardFormLP(E, torch.tensor([1.0, 3.0], dtype=DT))
    with pytest.raises(ValueError, match="b must have 2 entries"):
        StandardFormLP(E, torch.ones(3, dtype=DT))
    with pytest.raises(ValueError, match="E must have 2 dimensions"):
        StandardFormLP(torch.ones(3, dtype=DT), torch.ones(3, dtype=DT))
    with pytest.raises(ValueError, match="b must have 1 dimensions"):
        StandardFormLP(E, torch.ones(2, 1, dtype=DT))


def test_nonneg_projection_value_and_infeasibility():
    lp = Simplex(4)
    V = torch.tensor([[-1.0, 0.5, 2.0, 0.0]], dtype=DT)
    assert torch.equal(lp.project_nonneg(V), torch.tensor([[0.0, 0.5, 2.0, 0.0]], dtype=DT))
    C = torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=DT)
    torch.testing.assert_close(lp.value(C, V, gamma=0.5), torch.tensor([-1 + 1 + 6 + 0.25 * (1 + 0.25 + 4)], dtype=DT))
    torch.testing.assert_close(lp.infeasibility(V), torch.tensor([1.0], dtype=DT))   # max(|1.5 - 1|, (-(-1))_+)
    X = torch.tensor([[0.25, 0.25, 0.5, 0.0], [0.0, 0.0, 0.0, 1.2]], dtype=DT)
    torch.testing.assert_close(lp.infeasibility(X), torch.tensor([0.0, 0.2], dtype=DT))


def test_regret_reductions_are_consistent():
    lp = Simplex(5)
    g = torch.Generator().manual_seed(1)
    C_true = torch.rand(6, 5, generator=g, dtype=DT) + 0.5
    C_pred = C_true + 0.6 * torch.randn(6, 5, generator=g, dtype=DT)
    per_row = lp.regret(C_pred, C_true, reduction="none")
    expected = C_true[torch.arange(6), C_pred.argmin(1)] - C_true.amin(1)
    torch.testing.assert_close(per_row, expected, rtol=0, atol=1e-15)
    assert bool((per_row >= 0).all()) and float(per_row.max()) > 0
    z_true = C_true.amin(1)
    assert lp.regret(C_pred, C_true) == pytest.approx(float(per_row.sum() / z_true.abs().sum()), rel=1e-14)
    assert lp.regret(C_pred, C_true, reduction="mean") == pytest.approx(float(per_row.mean()), rel=1e-14)
    assert lp.regret(C_true, C_true) == 0.0
    assert bool((lp.regret(C_true, C_true, reduction="none") == 0).all())
    assert lp.decision_accuracy(C_true, C_true) == 1.0
    same = (C_pred.argmin(1) == C_true.argmin(1)).double().mean()
    assert lp.decision_accuracy(C_pred, C_true) == pytest.approx(float(same))
    assert lp.regret(C_pred.float(), C_true) == pytest.approx(lp.regret(C_pred, C_true), rel=1e-12)


def test_input_checks_name_the_parameter():
    lp = Simplex(4)
    good = torch.ones(3, 4, dtype=DT)
    with pytest.raises(ValueError, match="C_pred must have 4 columns"):
        lp.regret(torch.ones(3, 5, dtype=DT), good)
    with pytest.raises(ValueError, match="C_true must have 2 dimensions"):
        lp.regret(good, torch.ones(4, dtype=DT))
    with pytest.raises(ValueError, match="C_pred and C_true must have the same shape"):
        lp.regret(good, torch.ones(2, 4, dtype=DT))
    with pytest.raises(ValueError, match="reduction"):
        lp.regret(good, good, reduction="sum")
    with pytest.raises(ValueError, match="costs contains NaN"):
        lp.check_inputs(torch.full((1, 4), float("nan"), dtype=DT))
    with pytest.raises(ValueError, match="costs must be float32 or float64"):
        lp.check_inputs(torch.ones(1, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="C_pred"):
        lp.decision_accuracy(torch.ones(2, 3, dtype=DT), good)
    assert lp.check_inputs(good) is good


def test_astype_changes_the_projector_dtype_only():
    E, b, V = _constraints(seed=2)
    lp = StandardFormLP(E, b)
    lp32 = lp.astype(torch.float32)
    assert lp32.affine_projector.dtype == lp32.affine_offset.dtype == lp32.dtype == torch.float32
    assert lp.affine_projector.dtype == lp.dtype == torch.float64                   # the original is untouched
    assert lp32.E.dtype == lp32.b.dtype == torch.float64                            # metrics stay float64
    assert type(lp32) is StandardFormLP and lp32.n_costs == lp.n_costs
    P32 = lp32.project_affine(V.float())
    assert P32.dtype == torch.float32
    torch.testing.assert_close(P32.double(), lp.project_affine(V), rtol=0, atol=1e-5)
    assert lp.to("cpu").affine_projector.device.type == "cpu"
    assert lp32.astype(torch.float64).affine_projector.dtype == torch.float64
    assert StandardFormLP.to_output(V) is V
    assert lp.fingerprint_tensors() == (lp.E, lp.b)
