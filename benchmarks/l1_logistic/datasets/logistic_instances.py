"""ℓ1-logistic instances (Liu et al. ICML 2023): 1000 samples × 50 features per instance, ρ = 0.1.

The training instances are drawn by the ``sampler`` (a fresh batch per training step); the test
set is ``in-distribution`` (the sampler's test ids) or one of scikit-learn's bundled
real data sets (out of distribution; the paper used Ionosphere and Spambase, not shipped here):
each test instance a seeded subsample of ``n_samples_real`` rows, standardised features.
"""
from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.instances import split_ids
from l2obench.datasets.l1_logistic import REAL_DATASETS, LogisticInstanceSampler, real_logistic
from l2obench.objectives.validation import check_choice, check_int, check_real


class Dataset(BenchmarkDataset):
    name = "logistic-instances"
    parameters = {"n_test": [256], "n_samples": [1000], "n_features": [50], "rho": [0.1],
                  "test_set": ["in-distribution", *REAL_DATASETS], "n_samples_real": [150]}
    test_parameters = {"n_test": [4], "n_samples": [40], "n_features": [5], "test_set": ["in-distribution"]}

    def check_parameters(self, n_test, n_samples, n_features, rho, test_set, n_samples_real):
        check_int("n_test", n_test, low=1)
        check_real("rho", rho, low=0.0, low_open=True)
        check_choice("test_set", test_set, ("in-distribution", *REAL_DATASETS))
        check_int("n_samples_real", n_samples_real, low=2)
        LogisticInstanceSampler(n_samples, n_features, rho=rho).check()

    def get_data(self):
        seed = self.get_seed(use_repetition=True)
        sampler = LogisticInstanceSampler(self.n_samples, self.n_features, rho=self.rho, seed=seed, dtype="float64")
        if self.test_set == "in-distribution":
            problem, y, _ = sampler.sample(split_ids("test", self.n_test))
            F = problem.F
        else:
            data = real_logistic(self.test_set, self.n_test, self.n_samples_real, seed=seed, dtype="float64")
            F, y = data["F"], data["y"]
        return dict(F_test=F, y_test=y, rho=self.rho, sampler=sampler)
