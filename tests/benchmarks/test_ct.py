"""The ct benchmark end to end: the reconstruction figure from benchopt's own objects on a tiny config."""
import re
import subprocess
import sys

import pytest
import yaml

from support import BENCHMARKS, benchopt_env


@pytest.mark.slow
def test_reconstruction_figure_renders_from_benchopt_objects(tmp_path):
    config = {"seed": 0, "objective": ["ct[dtype=float32,n_calibration=8]"],
              "dataset": ["phantoms[size=32,n_angles=10,n_train=32,n_test=8,test_set=shepp-logan]"],
              "solver": ["FBP[filter=ram-lak]", "TV-min[algorithm=pdhg]",
                         "learned-primal-dual[n_iterations=2,width=4,n_steps=2,batch_size=8]",
                         "implicit-L2O[channels=2,n_blocks=1,prox=[residual,averaged],depth=4,n_steps=2,batch_size=8]"]}
    path = tmp_path / "tiny.yml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "figure.png"
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "ct" / "plot_reconstructions.py"), "--config", str(path),
                           "--test-set", "shepp-logan", "--budget", "8", "--n-images", "2", "--output", str(out)],
                          env=benchopt_env(tmp_path / "cache"), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert out.stat().st_size > 10_000
    # every solver ran at its budget: learned ones at their trained depth, classical ones at --budget
    assert re.search(r"TV-min\[algorithm=pdhg[^\]]*\]: 8 iterations", proc.stdout)
    assert re.search(r"learned-primal-dual\[[^\]]*\]: 2 iterations", proc.stdout)
    assert re.search(r"implicit-L2O\[[^\]]*\]: 4 iterations", proc.stdout)
    assert re.search(r"implicit-L2O\[[^\]]*prox=averaged[^\]]*\]: 4 iterations", proc.stdout)
    assert re.search(r"FBP\[filter=ram-lak\]: 8 it\., all 8 test images: PSNR [\d.]+, SSIM 0\.\d+, fail %", proc.stdout)
    # the fixed-point diagnostics load the same trained implicit models (cache) and iterate past the depth
    diag = subprocess.run([sys.executable, str(BENCHMARKS / "ct" / "fixed_point_residuals.py"), "--config", str(path),
                           "--test-set", "shepp-logan", "--n-iter", "10", "--solver",
                           "implicit-L2O[channels=2,n_blocks=1,prox=[residual,averaged],depth=4,n_steps=2,batch_size=8]"],
                          env=benchopt_env(tmp_path / "cache"), capture_output=True, text=True, timeout=600)
    assert diag.returncode == 0, diag.stdout[-3000:] + diag.stderr[-3000:]
    assert diag.stdout.count("(trained depth 4") == 2 and diag.stdout.count("it    10  residual") == 2
    # a test set the config does not have is a clear error
    bad = subprocess.run([sys.executable, str(BENCHMARKS / "ct" / "plot_reconstructions.py"), "--config", str(path),
                          "--test-set", "in-distribution", "--output", str(out)],
                         env=benchopt_env(tmp_path / "cache"), capture_output=True, text=True, timeout=600)
    assert bad.returncode != 0 and "test_set='in-distribution' is not in the config" in bad.stderr
