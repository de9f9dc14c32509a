COMMENT ON TABLE mart.export_state IS 'Underlyings and sessions written to the Parquet exports (exports/<view>/session=D/part-0.parquet, every underlying of a session in one file), with the fingerprint of what they were computed from';
COMMENT ON COLUMN mart.export_state.underlying IS 'Normalised ticker without caret: SPX, NDX, ...';
COMMENT ON COLUMN mart.export_state.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.export_state.fingerprint IS 'MD5 of the chain load id, preset, conventions, code version and schema migration level the exported rows came from, and of the export layout version';
COMMENT ON COLUMN mart.export_state.preset IS 'Conventions of the exported rows (key): native, perfiliev, perfiliev-early, gflows';
