-- Open interest as OCC publishes it (gex.reference.OPEN_INTEREST_SCHEMA). As-of rule: the file published
-- on the morning of session t (publish_date) reflects positions after the close of t-1 (oi_date).
-- One publication per (underlying, publish_date); a re-load replaces it.
CREATE TABLE IF NOT EXISTS raw.open_interest (
    load_id VARCHAR NOT NULL,
    publish_date DATE NOT NULL,
    oi_date DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    root VARCHAR NOT NULL,
    expiration DATE NOT NULL,
    strike DOUBLE NOT NULL,
    "right" VARCHAR NOT NULL CHECK ("right" IN ('C', 'P')),
    open_interest BIGINT NOT NULL CHECK (open_interest >= 0),
    source_line BIGINT NOT NULL,
    CHECK (oi_date < publish_date)
);
COMMENT ON TABLE raw.open_interest IS 'OCC open interest per contract per publication (publish_date morning of t, reflecting the close of oi_date = t-1)';
COMMENT ON COLUMN raw.open_interest.publish_date IS 'Session on whose morning OCC published the figure';
COMMENT ON COLUMN raw.open_interest.oi_date IS 'Session whose close the figure reflects (the session before publish_date)';
COMMENT ON COLUMN raw.open_interest.symbol IS 'OSI symbol as written in the file';
COMMENT ON COLUMN raw.open_interest.expiration IS 'Expiration date, New York';
COMMENT ON COLUMN raw.open_interest.strike IS 'Strike, currency per share';
COMMENT ON COLUMN raw.open_interest."right" IS 'C call, P put';
COMMENT ON COLUMN raw.open_interest.open_interest IS 'Open interest, contracts';
COMMENT ON COLUMN raw.open_interest.source_line IS '1-based line in the source file';
COMMENT ON COLUMN raw.open_interest.load_id IS 'raw.load_manifest.load_id of the file the row came from';
COMMENT ON COLUMN raw.open_interest.underlying IS 'Normalised ticker without caret: SPX, SPY, ...';
COMMENT ON COLUMN raw.open_interest.root IS 'Option root from the symbol: SPX (AM-settled) vs SPXW (PM-settled), ...';
