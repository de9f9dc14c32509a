-- Which (underlying, session) the Parquet exports hold, and from what (gex_warehouse.export).
-- A bookkeeping table: the fingerprint changes when the session is recomputed from another chain load,
-- under other conventions or code, or after a migration, and the session is exported again.
CREATE TABLE IF NOT EXISTS mart.export_state (
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    fingerprint VARCHAR NOT NULL,
    PRIMARY KEY (underlying, session)
);
COMMENT ON TABLE mart.export_state IS 'Sessions written to the Parquet exports (exports/<view>/underlying=U/session=D/), with the fingerprint of what they were computed from';
COMMENT ON COLUMN mart.export_state.underlying IS 'Normalised ticker without caret: SPX, NDX, ...';
COMMENT ON COLUMN mart.export_state.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.export_state.fingerprint IS 'MD5 of the chain load id, preset, conventions, code version and schema migration level the exported rows came from';
