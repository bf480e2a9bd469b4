"""Seeded generators and bundled-data loaders; each returns train and test splits."""
