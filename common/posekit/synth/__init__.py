"""Synthetic data sets written in the real on-disk formats; one module per data set."""
