"""Fixtures of the CT network tests: a 32 x 32 problem (its own projector cache) and four phantoms."""
import numpy as np
import pytest
import torch

from l2obench.datasets.ct import random_ellipses
from l2obench.objectives.ct import CTProblem
from l2obench.objectives.ct_projector import ParallelBeamGeometry, Projector

N = 32


@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    return CTProblem(Projector(ParallelBeamGeometry(N), cache_dir=tmp_path_factory.mktemp("ct")))


@pytest.fixture(scope="module")
def data(problem):
    x = torch.from_numpy(random_ellipses(4, N, np.random.default_rng(0)).reshape(4, -1)).float()
    return x, problem.projector.apply(x)
