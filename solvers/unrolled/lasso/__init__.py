"""Unrolled solvers of the Lasso: the LISTA family, ALISTA, HyperLISTA, SLISTA."""
