"""Classical, unrolled and implicit solvers, the shared proximal operators and training loop."""
