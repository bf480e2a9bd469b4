"""A fresh dictionary per instance (Liu et al. ICML 2023): the learned optimizers' Lasso.

250 × 500 Gaussian D with unit-norm columns per instance, 50-sparse codes, noiseless, ρ = 0.1
(absolute). The training instances are drawn by the ``sampler`` (a fresh batch per training
step); the test set is ``in-distribution`` (the sampler's test ids) or
``image-patches`` (8 × 8 natural-image patches on a dictionary learned from them: out of
distribution). Models that learn weights for one operator (the LISTA family) skip this data set.
"""
from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.image_patches import image_patch_lasso
from l2obench.datasets.instances import split_ids
from l2obench.datasets.lasso_instances import LassoInstanceSampler
from l2obench.objectives.validation import check_choice, check_int, check_real

TEST_SETS = ("in-distribution", "image-patches")


class Dataset(BenchmarkDataset):
    name = "random-instances"
    parameters = {"n_test": [1024], "m": [250], "n": [500], "sparsity": [50], "rho": [0.1],
                  "test_set": list(TEST_SETS)}
    test_parameters = {"n_test": [8], "m": [20], "n": [40], "sparsity": [4], "test_set": ["in-distribution"]}

    def check_parameters(self, n_test, m, n, sparsity, rho, test_set):
        check_int("n_test", n_test, low=1)
        check_real("rho", rho, low=0.0, low_open=True)
        check_choice("test_set", test_set, TEST_SETS)
        LassoInstanceSampler(m, n, sparsity, rho=rho).check()

    def get_data(self):
        seed = self.get_seed(use_repetition=True)
        sampler = LassoInstanceSampler(self.m, self.n, self.sparsity, rho=self.rho, seed=seed, dtype="float64")
        if self.test_set == "in-distribution":
            problem, X, _ = sampler.sample(split_ids("test", self.n_test))
            D, Z = problem.D, None
        else:
            data = image_patch_lasso(self.n_test, seed=seed, dtype="float64")
            D, X, Z = data["D"], data["X"], None
        return dict(D=D, X_train=None, Z_train=None, X_test=X, Z_test=Z, sampler=sampler, rho=self.rho)
