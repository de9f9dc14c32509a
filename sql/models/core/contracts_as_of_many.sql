-- The one definition of a chain's contracts with the open interest known on its session (two table macros, one
-- rule). core.contracts_as_of_many(session, valuation_ts, underlyings) returns the quotes (raw.chain_quotes) of
-- every snapshot of the listed underlyings valued at that instant (the whole market's end-of-day chains of a
-- session in one query: the compute reads a session this way), core.contracts_as_of(underlying, session,
-- valuation_ts) one snapshot's. Each row has both open-interest figures: the chain file's own (chain_open_interest,
-- chain_oi_date) and, per contract, the OCC feed's latest publication with publish_date <= session
-- (feed_open_interest, feed_oi_date, feed_publish_date; never one published later: no look-ahead). OCC publishes
-- on the morning of session t the positions after the close of t-1. Contracts match on (underlying, root,
-- expiration, strike, right), not on the symbol text (OCC pads it). The feed is reduced with an aggregate per
-- contract (arg_max by publish_date) rather than an ASOF join, which sorted the whole feed on every query (25x
-- slower on a year of data), and only from each chain's first expiration on. Rows come in underlying,
-- source_line, symbol order.
CREATE OR REPLACE MACRO core.contracts_as_of_many(chain_session, chain_valuation_ts, chain_underlyings) AS TABLE
WITH quotes AS (
    SELECT * FROM raw.chain_quotes
    WHERE session = chain_session AND valuation_ts = chain_valuation_ts AND list_contains(chain_underlyings, underlying)
),
first_expiry AS (
    SELECT underlying, min(expiration) AS expiration FROM quotes GROUP BY underlying
),
feed AS (
    SELECT o.underlying, o.root, o.expiration, o.strike, o."right", max(o.publish_date) AS publish_date,
           arg_max(o.open_interest, o.publish_date) AS open_interest, arg_max(o.oi_date, o.publish_date) AS oi_date
    FROM raw.open_interest AS o
    JOIN first_expiry AS e ON e.underlying = o.underlying AND o.expiration >= e.expiration
    WHERE o.publish_date <= chain_session
    GROUP BY ALL
)
SELECT
    q.*,
    q.open_interest AS chain_open_interest,
    q.oi_date AS chain_oi_date,
    f.open_interest AS feed_open_interest,
    f.oi_date AS feed_oi_date,
    f.publish_date AS feed_publish_date,
    q.settlement_ts <= q.valuation_ts AS expired
FROM quotes AS q
LEFT JOIN feed AS f ON f.underlying = q.underlying AND f.root = q.root AND f.expiration = q.expiration
                   AND f.strike = q.strike AND f."right" = q."right"
ORDER BY q.underlying, q.source_line, q.symbol;
