from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.tv_deconvolution import check_tv_synthetic, make_tv_synthetic


class Dataset(BenchmarkDataset):
    """Gaussian measurements of TV-sparse signals; (8, 5) is the paper's small setting.

    ``test_set=shifted``: the same H and training split, a test split with twice the jumps and
    twice the noise (``l2obench.datasets.tv_deconvolution.shifted_tv_synthetic``), in rows of
    their own; ``test_set=in-distribution`` (the default) stays out of the name, so the rows
    keep the names they had before the parameter existed.
    """

    name = "tv-synthetic"
    parameters = {"n_train": [2000], "n_test": [500], "n_dim, n_measurements": [(8, 5), (100, 50)],
                  "p_jump": [0.3], "noise": [0.1], "test_set": ["in-distribution"]}
    test_parameters = {"n_train": [40], "n_test": [8], "n_dim, n_measurements": [(8, 5)]}

    def check_parameters(self, n_train, n_test, n_dim, n_measurements, p_jump, noise, test_set):
        check_tv_synthetic(n_train, n_test, n_dim, n_measurements, p_jump, noise, test_set=test_set)

    def get_data(self):
        data = make_tv_synthetic(self.n_train, self.n_test, self.n_dim, self.n_measurements, self.p_jump,
                                 self.noise, seed=self.get_seed(use_repetition=True), test_set=self.test_set)
        return data.as_dict()
