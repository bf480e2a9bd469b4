"""Turn benchopt's parquet outputs into tables, figures and regression checks."""
