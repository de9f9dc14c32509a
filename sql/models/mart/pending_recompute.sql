COMMENT ON TABLE mart.pending_recompute IS 'Computed snapshots (underlying, session, valuation_ts, preset) a migration made stale (new data the compute fills): gex compute recomputes them and removes the row';
COMMENT ON COLUMN mart.pending_recompute.underlying IS 'Normalised ticker without caret: SPX, NDX, ...';
COMMENT ON COLUMN mart.pending_recompute.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.pending_recompute.preset IS 'Conventions of the rows to recompute';
COMMENT ON COLUMN mart.pending_recompute.reason IS 'Why: the migration that made the rows incomplete';
COMMENT ON COLUMN mart.pending_recompute.valuation_ts IS 'Snapshot to recompute: its valuation instant, UTC (the snapshot''s own instant when taken before the close, else the session close; core.daily_snapshot picks the one the daily views publish)';
