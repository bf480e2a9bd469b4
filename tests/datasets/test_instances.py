import pytest
import torch

from l2obench.datasets.instances import split_ids
from l2obench.datasets.l1_logistic import LogisticInstanceSampler
from l2obench.datasets.lasso_instances import LassoInstanceSampler


def test_splits_are_disjoint_and_deterministic():
    ids = {split: split_ids(split, 1000) for split in ("train", "val", "test")}
    merged = torch.cat(list(ids.values()))
    assert merged.unique().numel() == merged.numel()
    assert torch.equal(split_ids("train", 1000), ids["train"])
    assert ids["train"].dtype == torch.long and ids["train"][0] == 0


@pytest.mark.parametrize("split, n, match", [("training", 3, "split"), ("train", 0, "n"), ("val", 2.5, "n")])
def test_bad_input(split, n, match):
    with pytest.raises(ValueError, match=match):
        split_ids(split, n)


@pytest.mark.parametrize("sampler", [LassoInstanceSampler(6, 10, 2, seed=3), LogisticInstanceSampler(12, 5, seed=3)])
def test_samplers_params_and_dtype(sampler):
    params = sampler.get_params()
    assert params["seed"] == 3 and params["dtype"] == "float32"
    double = sampler.astype("float64")
    assert type(double) is type(sampler) and double.get_params() == {**params, "dtype": "float64"}
    ids = split_ids("test", 3)
    (_, X32, _), (_, X64, _) = sampler.sample(ids), double.sample(ids)
    assert X64.dtype == torch.float64 and torch.allclose(X32.double(), X64, atol=1e-6)
