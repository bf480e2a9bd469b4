"""Implicit (fixed-point) learned solvers."""
