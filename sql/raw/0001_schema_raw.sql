-- Layer 1: what the source files say, one row per record, plus load bookkeeping (manifest, quarantine).
CREATE SCHEMA IF NOT EXISTS raw;
