from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.sparse_coding import check_digits_coding, load_digits_coding


class Dataset(BenchmarkDataset):
    """scikit-learn's 8×8 digits: 256 digit atoms, disjoint digit signals, ‖Dᵀx‖∞ = 1."""

    name = "digits"
    parameters = {"n_train": [1_000], "n_test": [500], "n_atoms": [256]}
    test_parameters = {"n_train": [64], "n_test": [32], "n_atoms": [64]}

    def check_parameters(self, n_train, n_test, n_atoms):
        check_digits_coding(n_train, n_test, n_atoms)

    def get_data(self):
        data = load_digits_coding(self.n_train, self.n_test, self.n_atoms,
                                  seed=self.get_seed(use_repetition=True))
        return vars(data)
