-- Average daily dollar volume of each underlying's shares per (underlying, session), for the scanner's GEX
-- relative to liquidity (main.scanner). Dollar volume of a session = close * share volume of one bar that has a
-- volume (a reference file's; raw.underlying_closes.volume, migration 0008), preferring sources by name. The
-- options' own dollar volume is NOT this: it says nothing about how many shares a hedger can trade.
-- Window: the last 20 bars of the underlying ending at the session (every bar counts, with or without volume:
-- the spine is core.realized_vol, one bar per (underlying, session)); the average is over the bars in it that
-- have a volume, and adv_20d_sessions says how many did. NULL when none did (indices: no share volume).
CREATE OR REPLACE VIEW core.dollar_volume AS
WITH volumes AS (
    SELECT
        underlying,
        session,
        source,
        "close" * volume AS dollar_volume_usd,
        row_number() OVER (PARTITION BY underlying, session ORDER BY source = 'chain', source) AS pick
    FROM raw.underlying_closes
    WHERE volume IS NOT NULL
),
spine AS (
    SELECT b.underlying, b.session, v.source AS volume_source, v.dollar_volume_usd
    FROM core.realized_vol AS b
    LEFT JOIN volumes AS v ON v.underlying = b.underlying AND v.session = b.session AND v.pick = 1
)
SELECT
    underlying,
    session,
    volume_source,
    dollar_volume_usd,
    avg(dollar_volume_usd) OVER w AS adv_20d_usd,
    CAST(count(dollar_volume_usd) OVER w AS BIGINT) AS adv_20d_sessions
FROM spine
WINDOW w AS (PARTITION BY underlying ORDER BY session ROWS BETWEEN 19 PRECEDING AND CURRENT ROW);
COMMENT ON VIEW core.dollar_volume IS 'Dollar volume of the underlying''s shares per (underlying, session) and its 20-bar average (close * share volume), dollars per session';
COMMENT ON COLUMN core.dollar_volume.underlying IS 'Normalised ticker without caret: SPY, AAPL, ...';
COMMENT ON COLUMN core.dollar_volume.session IS 'Trading session (New York date)';
COMMENT ON COLUMN core.dollar_volume.volume_source IS 'raw.underlying_closes.source of the bar whose volume is used; NULL when no bar of the session has a volume';
COMMENT ON COLUMN core.dollar_volume.dollar_volume_usd IS 'close * share volume of the session, dollars; NULL without a volume';
COMMENT ON COLUMN core.dollar_volume.adv_20d_usd IS 'Average daily dollar volume: mean of dollar_volume_usd over the last 20 bars ending at the session that have one, dollars per session; NULL when none has';
COMMENT ON COLUMN core.dollar_volume.adv_20d_sessions IS 'Bars among the last 20 (ending at the session) with a volume, count 0..20: how many sessions adv_20d_usd averages';
