-- The one definition of a chain's contracts with the open interest known on its session (table macro):
-- core.contracts_as_of(underlying, session, valuation_ts) returns one snapshot's quotes (raw.chain_quotes) with both open-interest
-- figures: the chain file's own (chain_open_interest, chain_oi_date) and, per contract, the OCC feed's latest
-- publication with publish_date <= session (feed_open_interest, feed_oi_date, feed_publish_date; never one
-- published later: no look-ahead). OCC publishes on the morning of session t the positions after the close of
-- t-1. Contracts match on (root, expiration, strike, right), not on the symbol text (OCC pads it). The feed is
-- reduced with an aggregate per contract (arg_max by publish_date) rather than an ASOF join, which sorted the
-- whole feed on every query (25x slower on a year of data). gex_warehouse.compute reads chains through it.
CREATE OR REPLACE MACRO core.contracts_as_of(chain_underlying, chain_session, chain_valuation_ts) AS TABLE
WITH feed AS (
    SELECT root, expiration, strike, "right", max(publish_date) AS publish_date,
           arg_max(open_interest, publish_date) AS open_interest, arg_max(oi_date, publish_date) AS oi_date
    FROM raw.open_interest
    WHERE underlying = chain_underlying AND publish_date <= chain_session
      AND expiration >= (SELECT min(expiration) FROM raw.chain_quotes
                         WHERE underlying = chain_underlying AND session = chain_session
                           AND valuation_ts = chain_valuation_ts)
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
FROM raw.chain_quotes AS q
LEFT JOIN feed AS f ON f.root = q.root AND f.expiration = q.expiration AND f.strike = q.strike AND f."right" = q."right"
WHERE q.underlying = chain_underlying AND q.session = chain_session AND q.valuation_ts = chain_valuation_ts
ORDER BY q.source_line, q.symbol;
