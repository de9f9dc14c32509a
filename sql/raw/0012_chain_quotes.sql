-- The canonical chain (gex.chain.CHAIN_SCHEMA, docs/chain-schema.md), one row per contract, for the
-- current chain of each (underlying, session), plus the load it came from. Expired rows are kept (models
-- exclude them: core.contracts.excluded_reason). No key constraint: uniqueness of (underlying, session,
-- symbol) is enforced by validation before insert (a key index would halve the load speed).
CREATE TABLE IF NOT EXISTS raw.chain_quotes (
    load_id VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    session DATE NOT NULL,
    snapshot_ts TIMESTAMPTZ,
    valuation_ts TIMESTAMPTZ NOT NULL,
    symbol VARCHAR NOT NULL,
    root VARCHAR NOT NULL,
    expiration DATE NOT NULL,
    settlement VARCHAR NOT NULL CHECK (settlement IN ('AM', 'PM')),
    settlement_ts TIMESTAMPTZ NOT NULL,
    strike DOUBLE NOT NULL,
    "right" VARCHAR NOT NULL CHECK ("right" IN ('C', 'P')),
    bid DOUBLE,
    ask DOUBLE,
    "last" DOUBLE,
    volume BIGINT,
    open_interest BIGINT,
    oi_date DATE,
    vendor_iv DOUBLE,
    vendor_delta DOUBLE,
    vendor_gamma DOUBLE,
    vendor_vega DOUBLE,
    vendor_theta DOUBLE,
    underlying_price DOUBLE NOT NULL,
    multiplier DOUBLE NOT NULL,
    source_line BIGINT NOT NULL
);
COMMENT ON TABLE raw.chain_quotes IS 'Canonical option chain, one row per contract (docs/chain-schema.md); the current chain of each (underlying, session)';
COMMENT ON COLUMN raw.chain_quotes.load_id IS 'raw.load_manifest.load_id of the file the row came from';
COMMENT ON COLUMN raw.chain_quotes.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, SPY, VIX';
COMMENT ON COLUMN raw.chain_quotes.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN raw.chain_quotes.snapshot_ts IS 'Vendor snapshot instant, UTC';
COMMENT ON COLUMN raw.chain_quotes.valuation_ts IS 'Instant models value at, UTC';
COMMENT ON COLUMN raw.chain_quotes.symbol IS 'OSI-style symbol as written by the vendor';
COMMENT ON COLUMN raw.chain_quotes.root IS 'Option root: SPX (AM-settled) vs SPXW (PM-settled), ...';
COMMENT ON COLUMN raw.chain_quotes.expiration IS 'Expiration (last trading) date, New York';
COMMENT ON COLUMN raw.chain_quotes.settlement IS 'AM: settles at the open of expiration; PM: at the close';
COMMENT ON COLUMN raw.chain_quotes.settlement_ts IS 'Settlement instant, UTC';
COMMENT ON COLUMN raw.chain_quotes.strike IS 'Strike, currency per share';
COMMENT ON COLUMN raw.chain_quotes."right" IS 'C call, P put';
COMMENT ON COLUMN raw.chain_quotes.bid IS 'Bid premium, currency per share';
COMMENT ON COLUMN raw.chain_quotes.ask IS 'Ask premium, currency per share';
COMMENT ON COLUMN raw.chain_quotes."last" IS 'Last sale premium, currency per share';
COMMENT ON COLUMN raw.chain_quotes.volume IS 'Contracts traded in the session, contracts';
COMMENT ON COLUMN raw.chain_quotes.open_interest IS 'Open interest the chain shows, contracts (OCC figure as of the close of oi_date)';
COMMENT ON COLUMN raw.chain_quotes.oi_date IS 'Session whose close open_interest reflects (Cboe snapshots: the session before session)';
COMMENT ON COLUMN raw.chain_quotes.vendor_iv IS 'Vendor implied volatility, decimal per year (0.20 = 20%); placeholders (0) kept as published';
COMMENT ON COLUMN raw.chain_quotes.vendor_delta IS 'Vendor delta, per share (-1..1)';
COMMENT ON COLUMN raw.chain_quotes.vendor_gamma IS 'Vendor gamma, delta per 1 point of the underlying';
COMMENT ON COLUMN raw.chain_quotes.vendor_vega IS 'Vendor vega as published (Cboe: premium per vol point)';
COMMENT ON COLUMN raw.chain_quotes.vendor_theta IS 'Vendor theta as published (Cboe: premium per day)';
COMMENT ON COLUMN raw.chain_quotes.underlying_price IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN raw.chain_quotes.multiplier IS 'Shares per contract';
COMMENT ON COLUMN raw.chain_quotes.source_line IS '1-based physical line (JSON: record index) in the source file';
