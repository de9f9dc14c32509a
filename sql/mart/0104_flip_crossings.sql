-- Every zero crossing of the GEX profile inside the flip window; is_flip marks the gamma flip (the crossing the conventions pick).
-- Written by gex_warehouse.compute.write_marts, which replaces an (underlying, session) in one transaction.
CREATE TABLE IF NOT EXISTS mart.flip_crossings (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    crossing DOUBLE NOT NULL,
    is_flip BOOLEAN,
    PRIMARY KEY (session, underlying, crossing)
);
COMMENT ON TABLE mart.flip_crossings IS 'Every zero crossing of the GEX profile inside the flip window; is_flip marks the gamma flip (the crossing the conventions pick)';
COMMENT ON COLUMN mart.flip_crossings.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN mart.flip_crossings.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN mart.flip_crossings.crossing IS 'Level of the underlying where total dealer GEX changes sign, currency per share';
COMMENT ON COLUMN mart.flip_crossings.is_flip IS 'This crossing is the gamma flip (native: nearest spot; presets: first grid crossing)';
