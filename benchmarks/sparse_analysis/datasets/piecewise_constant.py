"""Piecewise-constant signals x* = M s* (steps at fixed jump positions), d = A x*."""
from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.sparse_analysis import check_sparse_analysis, make_sparse_analysis


class Dataset(BenchmarkDataset):
    name = "piecewise-constant"
    requirements = []
    # Defaults of Heaton & Wu Fung (2023): n = 250, latent dimension 50, A of size 100 x 250.
    parameters = {"n": [250], "latent_dim": [50], "m": [100], "n_train": [2000], "n_test": [256],
                  "shift": [3]}
    test_parameters = {"n": [24], "latent_dim": [3], "m": [10], "n_train": [64], "n_test": [16]}

    @staticmethod
    def n_val(n_train):
        return min(256, n_train)

    def check_parameters(self, n, latent_dim, m, n_train, n_test, shift):
        check_sparse_analysis(n, latent_dim, m, n_train, self.n_val(n_train), n_test, shift)

    def get_data(self):
        data = make_sparse_analysis(n=self.n, latent_dim=self.latent_dim, m=self.m,
                                    n_train=self.n_train, n_val=self.n_val(self.n_train),
                                    n_test=self.n_test, shift=self.shift,
                                    seed=self.get_seed(use_repetition=True))
        keys = ("A", "x_train", "d_train", "x_val", "d_val", "x_test", "d_test", "x_shift", "d_shift")
        return {k: data[k] for k in keys}
