"""Learned optimizers: a coordinate-wise LSTM trained to optimise new problem instances (ARCHITECTURE.md)."""
