-- Contracts of the loaded chains joined to the OCC open-interest feed, keeping both figures with their dates.
-- As-of rule: OCC publishes on the morning of session t the positions after the close of t-1. A chain for
-- session t takes the latest publication with publish_date <= t (never one published later: no look-ahead);
-- feed_oi_date says which close it reflects (t-1 when the feed is complete, earlier when it is stale).
-- Contracts match on (underlying, root, expiration, strike, right), not on the symbol text (OCC pads it).
-- expired / excluded_reason: already settled at the valuation instant; loaded, but models exclude them.
CREATE OR REPLACE VIEW core.contracts AS
SELECT
    q.underlying,
    q.session,
    q.snapshot_ts,
    q.valuation_ts,
    q.symbol,
    q.root,
    q.expiration,
    q.settlement,
    q.settlement_ts,
    q.strike,
    q."right",
    q.bid,
    q.ask,
    q."last",
    q.volume,
    q.open_interest AS chain_open_interest,
    q.oi_date AS chain_oi_date,
    f.open_interest AS feed_open_interest,
    f.oi_date AS feed_oi_date,
    f.publish_date AS feed_publish_date,
    q.vendor_iv,
    q.vendor_delta,
    q.vendor_gamma,
    q.vendor_vega,
    q.vendor_theta,
    q.underlying_price,
    q.multiplier,
    q.settlement_ts <= q.valuation_ts AS expired,
    CASE WHEN q.settlement_ts <= q.valuation_ts THEN 'expired' END AS excluded_reason,
    q.load_id,
    q.source_line
FROM raw.chain_quotes AS q
ASOF LEFT JOIN raw.open_interest AS f
    ON f.underlying = q.underlying
    AND f.root = q.root
    AND f.expiration = q.expiration
    AND f.strike = q.strike
    AND f."right" = q."right"
    AND q.session >= f.publish_date;
COMMENT ON VIEW core.contracts IS 'Chain contracts with chain OI and OCC feed OI (each with the session whose close it reflects), expired flag; prices currency per share, OI contracts';
