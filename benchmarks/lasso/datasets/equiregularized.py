from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.sparse_coding import check_equiregularized, make_equiregularized


class Dataset(BenchmarkDataset):
    """Ablin et al. (2019) simulated setting: 64 × 256, dense Gaussian codes, ‖Dᵀx‖∞ = 1."""

    name = "equiregularized"
    parameters = {"n_train": [10_000], "n_test": [10_000], "n_dim, n_atoms": [(64, 256)]}
    test_parameters = {"n_train": [64], "n_test": [32], "n_dim, n_atoms": [(16, 32)]}

    def check_parameters(self, n_train, n_test, n_dim, n_atoms):
        check_equiregularized(n_train, n_test, n_dim, n_atoms)

    def get_data(self):
        data = make_equiregularized(self.n_train, self.n_test, self.n_dim, self.n_atoms,
                                    seed=self.get_seed(use_repetition=True))
        return vars(data)
