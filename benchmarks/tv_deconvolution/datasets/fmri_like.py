from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.tv_deconvolution import check_fmri_like, make_fmri_like


class Dataset(BenchmarkDataset):
    """Voxel-like BOLD series: block/event neural activity ⊛ canonical HRF (TR 0.735 s) + noise.

    ``test_set=shifted``: the same H and training split, a test split of the other design (mixed →
    event) at 7 dB less SNR (``l2obench.datasets.tv_deconvolution.shifted_fmri_like``), in rows
    of their own; ``test_set=in-distribution`` (the default) stays out of the name, so the rows
    keep the names they had before the parameter existed.
    """

    name = "fmri-like"
    parameters = {"n_train": [2000], "n_test": [256], "n_times": [250], "design": ["mixed"], "snr": [10.0],
                  "test_set": ["in-distribution"]}
    test_parameters = {"n_train": [40], "n_test": [8], "n_times": [40]}

    def check_parameters(self, n_train, n_test, n_times, design, snr, test_set):
        check_fmri_like(n_train, n_test, n_times, design, snr, test_set=test_set)

    def get_data(self):
        data = make_fmri_like(self.n_train, self.n_test, self.n_times, self.design, self.snr,
                              seed=self.get_seed(use_repetition=True), test_set=self.test_set)
        return data.as_dict()
