-- Layer 3: analysis results (exposures by strike, flips, regimes); filled by later issues.
CREATE SCHEMA IF NOT EXISTS mart;
