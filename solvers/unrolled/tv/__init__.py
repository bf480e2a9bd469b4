"""Unrolled solvers of TV deconvolution (Cherkaoui, Sulam & Moreau, NeurIPS 2020)."""
