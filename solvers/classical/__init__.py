"""Classical first-order solvers, batched over problem instances."""
