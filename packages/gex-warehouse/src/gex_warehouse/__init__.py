"""DuckDB warehouse of the GEX pipeline."""
