-- Every loaded chain's contracts with both open-interest figures: core.contracts_as_of (the one definition of
-- the as-of rule) applied to the daily snapshot of each loaded
-- (underlying, session) (core.sessions: the end-of-day chain, else the latest intraday one). For browsing; the compute reads one chain at a
-- time through the macro. expired / excluded_reason: already settled at the valuation instant; loaded, but
-- the models exclude them.
CREATE OR REPLACE VIEW core.contracts AS
SELECT
    c.* EXCLUDE (open_interest, oi_date),
    CASE WHEN c.expired THEN 'expired' END AS excluded_reason
FROM core.sessions AS s, LATERAL core.contracts_as_of(s.underlying, s.session, s.valuation_ts) AS c;
COMMENT ON VIEW core.contracts IS 'Chain contracts with chain OI and OCC feed OI (each with the session whose close it reflects), expired flag; prices currency per share, OI contracts (core.contracts_as_of on every loaded chain)';
COMMENT ON COLUMN core.contracts.load_id IS 'raw.load_manifest.load_id of the file the row came from';
COMMENT ON COLUMN core.contracts.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, SPY, VIX';
COMMENT ON COLUMN core.contracts.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN core.contracts.snapshot_ts IS 'Vendor snapshot instant, UTC';
COMMENT ON COLUMN core.contracts.valuation_ts IS 'Instant models value at, UTC';
COMMENT ON COLUMN core.contracts.symbol IS 'OSI-style symbol as written by the vendor';
COMMENT ON COLUMN core.contracts.root IS 'Option root: SPX (AM-settled) vs SPXW (PM-settled), ...';
COMMENT ON COLUMN core.contracts.expiration IS 'Expiration (last trading) date, New York';
COMMENT ON COLUMN core.contracts.settlement IS 'AM: settles at the open of expiration; PM: at the close';
COMMENT ON COLUMN core.contracts.settlement_ts IS 'Settlement instant, UTC';
COMMENT ON COLUMN core.contracts.strike IS 'Strike, currency per share';
COMMENT ON COLUMN core.contracts."right" IS 'C call, P put';
COMMENT ON COLUMN core.contracts.bid IS 'Bid premium, currency per share';
COMMENT ON COLUMN core.contracts.ask IS 'Ask premium, currency per share';
COMMENT ON COLUMN core.contracts."last" IS 'Last sale premium, currency per share';
COMMENT ON COLUMN core.contracts.volume IS 'Contracts traded in the session, contracts';
COMMENT ON COLUMN core.contracts.vendor_iv IS 'Vendor implied volatility, decimal per year (0.20 = 20%); placeholders (0) kept as published';
COMMENT ON COLUMN core.contracts.vendor_delta IS 'Vendor delta, per share (-1..1)';
COMMENT ON COLUMN core.contracts.vendor_gamma IS 'Vendor gamma, delta per 1 point of the underlying';
COMMENT ON COLUMN core.contracts.vendor_vega IS 'Vendor vega as published (Cboe: premium per vol point)';
COMMENT ON COLUMN core.contracts.vendor_theta IS 'Vendor theta as published (Cboe: premium per day)';
COMMENT ON COLUMN core.contracts.underlying_price IS 'Spot the snapshot reports, currency per share';
COMMENT ON COLUMN core.contracts.multiplier IS 'Shares per contract';
COMMENT ON COLUMN core.contracts.source_line IS '1-based physical line (JSON: record index) in the source file';
COMMENT ON COLUMN core.contracts.chain_open_interest IS 'Open interest the chain file printed, contracts';
COMMENT ON COLUMN core.contracts.chain_oi_date IS 'Session whose close the chain''s open interest reflects (New York date)';
COMMENT ON COLUMN core.contracts.feed_open_interest IS 'Open interest of the OCC feed''s latest publication on or before the session (no look-ahead), contracts; NULL when the feed lacks the contract';
COMMENT ON COLUMN core.contracts.feed_oi_date IS 'Session whose close the feed figure reflects (New York date)';
COMMENT ON COLUMN core.contracts.feed_publish_date IS 'Publication date of the feed figure used (New York date)';
COMMENT ON COLUMN core.contracts.expired IS 'Already settled at the valuation instant (settlement_ts <= valuation_ts): loaded, excluded from models';
COMMENT ON COLUMN core.contracts.excluded_reason IS 'expired, or NULL when the models use the contract';
