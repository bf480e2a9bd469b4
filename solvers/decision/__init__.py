"""Predict-then-optimize: cost networks and the losses that train them through a decision."""
