"""DuckDB warehouse of the GEX pipeline."""

from gex_warehouse import calendar_cache as _calendar_cache

# every command, flow and analysis worker imports this package: they read the NYSE session table from its copy
# on disk instead of building it (~2.5 s a process; gex_warehouse.calendar_cache)
_calendar_cache.install()
