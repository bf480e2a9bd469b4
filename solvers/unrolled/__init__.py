"""Unrolled (learned) solvers built on the classical steps."""
