"""GPU check of the ct benchmark: its quick config on cuda against the CPU, every metric within
the float32 tolerances (``l2obench.results.gpu_check``, where the options are described).

Usage::

    python benchmarks/ct/gpu_check.py              # quick config: cuda against cpu
    python benchmarks/ct/gpu_check.py --quick      # a tiny subset (seconds of solving)
    python benchmarks/ct/gpu_check.py --dry-run    # print the two run configs, run nothing
    python benchmarks/ct/gpu_check.py --device cpu --quick   # both sides on the CPU (checks the check)
"""
import sys

from l2obench.results.gpu_check import main

if __name__ == "__main__":
    sys.exit(main(["--benchmark", "ct", *sys.argv[1:]]))
