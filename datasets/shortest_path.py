r"""Features and edge costs of grid shortest-path instances, drawn by PyEPO's generator.

PyEPO's ``genData`` (Tang & Khalil; the data of McKenzie, Heaton & Wu Fung, TMLR 2024): features
:math:`u \sim \mathcal N(0, I_p)`, a Bernoulli(½) matrix :math:`\mathcal B` (|E| × p) drawn once
per seed, costs
:math:`c = \big[\tfrac{1}{3.5^{\deg}}\big((\mathcal B u / \sqrt p + 3)^{\deg} + 1\big)\big]\cdot\varepsilon`,
:math:`\varepsilon \sim U[1 - \bar\varepsilon, 1 + \bar\varepsilon]` per edge. The paper's setting:
p = 5, deg = 4, :math:`\bar\varepsilon = 0.5`, 1000 / 200 / 200 samples. PyEPO's default seed is
fixed (135); here the seed is always passed. One call draws every split, so that train, validation
and test share :math:`\mathcal B` (the map the models learn); the splits are consecutive blocks of
that draw.
"""
import numpy as np

from l2obench.objectives.shortest_path import check_grid
from l2obench.objectives.validation import check_int, check_real


def check_shortest_path(grid, n_train, n_val, n_test, n_features=5, deg=4, noise_width=0.5, seed=0):
    """The checks of :func:`make_shortest_path`, without generating data (``ValueError`` naming the parameter)."""
    check_grid(grid)
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        check_int(name, value, low=1)
    check_int("n_features", n_features, low=1)
    check_int("deg", deg, low=1, high=8)
    check_real("noise_width", noise_width, low=0.0, high=1.0, low_open=False)
    check_int("seed", seed, low=0, high=2 ** 32 - 1)


def make_shortest_path(grid=5, n_train=1000, n_val=200, n_test=200, n_features=5, deg=4, noise_width=0.5, seed=0):
    """Draw the train / validation / test splits of PyEPO's shortest-path data.

    Parameters
    ----------
    grid : int
        Grid side k (PyEPO's ``grid=(k, k)``; |E| = 2k(k − 1) costs per sample).
    n_train, n_val, n_test : int
        Split sizes (1000 / 200 / 200 in the paper).
    n_features, deg, noise_width : int, int, float
        PyEPO's ``num_feat``, polynomial degree and noise half-width (5, 4, 0.5 in the paper).
    seed : int
        Seed of PyEPO's generator (its ``RandomState``), in [0, 2**32).

    Returns
    -------
    dict
        ``grid`` and float32 arrays ``u_train`` (n_train, n_features), ``c_train`` (n_train, |E|),
        and likewise ``_val``, ``_test``.
    """
    check_shortest_path(grid, n_train, n_val, n_test, n_features, deg, noise_width, seed)
    from pyepo.data.shortestpath import genData

    n = n_train + n_val + n_test
    u, c = genData(n, n_features, (grid, grid), deg=deg, noise_width=noise_width, seed=seed)
    u, c = np.asarray(u, dtype=np.float32), np.asarray(c, dtype=np.float32)
    out, start = {"grid": int(grid)}, 0
    for name, size in (("train", n_train), ("val", n_val), ("test", n_test)):
        out[f"u_{name}"], out[f"c_{name}"] = u[start:start + size], c[start:start + size]
        start += size
    return out
