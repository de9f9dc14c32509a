-- Sessions whose marts must be computed again although their chain did not change: a migration that adds
-- data (a new mart column or table filled by the compute) inserts the sessions computed before it here, so
-- `gex compute --all` (and the nightly flow) recompute them and `gex publish` re-exports them; writing a
-- session's marts removes its row (gex_warehouse.compute.write_marts).
CREATE TABLE IF NOT EXISTS mart.pending_recompute (
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    preset VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    PRIMARY KEY (underlying, session, preset)
);
