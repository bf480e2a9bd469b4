from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.sparse_coding import check_compressed_sensing, make_compressed_sensing


class Dataset(BenchmarkDataset):
    """Chen et al. (2018) compressed sensing: 250 × 500 Gaussian A, Bernoulli(0.1)-Gaussian codes."""

    name = "compressed-sensing"
    parameters = {"n_train": [51_200], "n_test": [2_048], "n_measurements, n_atoms": [(250, 500)],
                  "p": [0.1], "snr": [None]}
    test_parameters = {"n_train": [64], "n_test": [32], "n_measurements, n_atoms": [(20, 40)], "p": [0.2]}

    def check_parameters(self, n_train, n_test, n_measurements, n_atoms, p, snr):
        check_compressed_sensing(n_train, n_test, n_measurements, n_atoms, p, snr)

    def get_data(self):
        data = make_compressed_sensing(self.n_train, self.n_test, self.n_measurements, self.n_atoms,
                                       self.p, self.snr, seed=self.get_seed(use_repetition=True))
        return vars(data)
