from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.sparse_coding import check_compressed_sensing, make_compressed_sensing


class Dataset(BenchmarkDataset):
    """Chen et al. (2018) compressed sensing: 250 × 500 Gaussian A, Bernoulli(0.1)-Gaussian codes.

    ``test_set=shifted``: the same A and training split, a test split with twice the support
    density and the same noise σ (``l2obench.datasets.sparse_coding.shifted_compressed_sensing``),
    in rows of their own; ``test_set=in-distribution`` (the default) stays out of the name, so
    the rows keep the names they had before the parameter existed.
    """

    name = "compressed-sensing"
    parameters = {"n_train": [51_200], "n_test": [2_048], "n_measurements, n_atoms": [(250, 500)],
                  "p": [0.1], "snr": [None], "test_set": ["in-distribution"]}
    test_parameters = {"n_train": [64], "n_test": [32], "n_measurements, n_atoms": [(20, 40)], "p": [0.2]}

    def check_parameters(self, n_train, n_test, n_measurements, n_atoms, p, snr, test_set):
        check_compressed_sensing(n_train, n_test, n_measurements, n_atoms, p, snr, test_set=test_set)

    def get_data(self):
        data = make_compressed_sensing(self.n_train, self.n_test, self.n_measurements, self.n_atoms,
                                       self.p, self.snr, seed=self.get_seed(use_repetition=True),
                                       test_set=self.test_set)
        return vars(data)
