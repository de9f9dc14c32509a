COMMENT ON TABLE mart.pending_recompute IS 'Computed (underlying, session, preset) rows a migration made stale (new data the compute fills): gex compute recomputes them and removes the row';
COMMENT ON COLUMN mart.pending_recompute.underlying IS 'Normalised ticker without caret: SPX, NDX, ...';
COMMENT ON COLUMN mart.pending_recompute.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.pending_recompute.preset IS 'Conventions of the rows to recompute';
COMMENT ON COLUMN mart.pending_recompute.reason IS 'Why: the migration that made the rows incomplete';
