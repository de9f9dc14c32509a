COMMENT ON TABLE mart.flip_crossings IS 'Every zero crossing of the GEX profile inside the flip window; is_flip marks the gamma flip (the crossing the conventions pick)';
COMMENT ON COLUMN mart.flip_crossings.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.flip_crossings.valuation_ts IS 'Snapshot the row was computed from (key): its valuation instant, UTC (the snapshot''s own instant when taken before the close, else the session close; core.daily_snapshot picks the one the daily views publish)';
COMMENT ON COLUMN mart.flip_crossings.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.flip_crossings.crossing IS 'Level of the underlying where total dealer GEX changes sign, currency per share';
COMMENT ON COLUMN mart.flip_crossings.is_flip IS 'This crossing is the gamma flip (native: nearest spot; presets: first grid crossing)';
COMMENT ON COLUMN mart.flip_crossings.preset IS 'Conventions the row was computed under (key): native, perfiliev, perfiliev-early, gflows';
