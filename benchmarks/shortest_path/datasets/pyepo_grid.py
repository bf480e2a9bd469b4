"""PyEPO's shortest-path data: 5 features, polynomial degree 4, noise half-width 0.5 (the paper's)."""
from l2obench.datasets.benchopt_checks import BenchmarkDataset
from l2obench.datasets.shortest_path import check_shortest_path, make_shortest_path


class Dataset(BenchmarkDataset):
    name = "pyepo-grid"
    requirements = []
    parameters = {"grid": [5], "n_train": [1000], "n_val": [200], "n_test": [200], "deg": [4],
                  "noise_width": [0.5]}
    test_parameters = {"grid": [3], "n_train": [40], "n_val": [10], "n_test": [10]}

    def check_parameters(self, grid, n_train, n_val, n_test, deg, noise_width):
        check_shortest_path(grid, n_train, n_val, n_test, deg=deg, noise_width=noise_width)

    def get_data(self):
        # PyEPO's RandomState takes seeds below 2**32
        data = make_shortest_path(self.grid, self.n_train, self.n_val, self.n_test, deg=self.deg,
                                  noise_width=self.noise_width, seed=self.get_seed(use_repetition=True) % 2 ** 32)
        return {key: data[key] for key in ("grid", "u_train", "c_train", "u_val", "c_val", "u_test", "c_test")}
