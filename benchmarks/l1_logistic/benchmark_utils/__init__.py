"""Shared adapter code of the l1_logistic benchmark (imported by benchopt as ``benchmark_utils``)."""
