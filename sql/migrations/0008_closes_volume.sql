-- The stock's (or ETF's) share volume of the session beside its close, for the scanner's GEX relative to
-- average daily dollar volume (main.scanner). Nullable: indices have no share volume, chain-derived closes
-- and older reference files carry none. No session needs recomputing: volume feeds only published views.
ALTER TABLE raw.underlying_closes ADD COLUMN IF NOT EXISTS volume DOUBLE;
