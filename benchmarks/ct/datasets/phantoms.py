"""Random-ellipse phantoms, parallel-beam measurements with 1.5 % noise per beam; test on fresh
ellipses (in distribution) or on the Shepp-Logan phantom (``test_set=shepp-logan``)."""
from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.ct import check_ct, make_ct


class Dataset(BenchmarkDataset):
    name = "phantoms"
    requirements = []
    # Heaton & Wu Fung (2023): 128 x 128, 30 angles x 183 beams, 1.5 % noise (their data: LoDoPaB,
    # not reachable here); the full config sets size=128, the quick one 64
    parameters = {"size": [128], "n_angles": [30], "n_train": [2000], "n_test": [64], "noise_level": [0.015],
                  "test_set": ["in-distribution", "shepp-logan"]}
    test_parameters = {"size": [32], "n_angles": [10], "n_train": [32], "n_test": [8],
                       "test_set": ["in-distribution"]}

    @staticmethod
    def n_val(n_train):
        return max(4, min(128, n_train // 8))

    @staticmethod
    def generator_test_set(test_set):
        return "ellipses" if test_set == "in-distribution" else test_set

    def check_parameters(self, size, n_angles, n_train, n_test, noise_level, test_set):
        check_ct(size, n_angles, n_train, self.n_val(n_train), n_test, noise_level, self.generator_test_set(test_set))

    def get_data(self):
        data = make_ct(size=self.size, n_angles=self.n_angles, n_train=self.n_train, n_val=self.n_val(self.n_train),
                       n_test=self.n_test, noise_level=self.noise_level,
                       test_set=self.generator_test_set(self.test_set), seed=self.get_seed(use_repetition=True))
        keys = ("x_train", "d_train", "x_val", "d_val", "x_test", "d_test")
        return {**{k: data[k] for k in keys}, "size": self.size, "n_angles": self.n_angles,
                "noise_level": self.noise_level}
