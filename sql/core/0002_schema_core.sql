-- Layer 2: cleaned, joined, as-of-correct views over raw (contracts, sessions, rates).
CREATE SCHEMA IF NOT EXISTS core;
