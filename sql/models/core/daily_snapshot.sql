-- Which computed snapshot the daily views publish, per (underlying, session, preset): the end-of-day snapshot
-- (intraday = false) once it is computed, before that the latest intraday one. Every daily main.* view keeps
-- only the mart rows of this snapshot (SEMI JOIN on underlying, session, preset, valuation_ts).
CREATE OR REPLACE VIEW core.daily_snapshot AS
SELECT underlying, session, preset, valuation_ts, intraday
FROM mart.regime_daily
QUALIFY row_number() OVER (PARTITION BY underlying, session, preset ORDER BY intraday, valuation_ts DESC) = 1;
COMMENT ON VIEW core.daily_snapshot IS 'The computed snapshot the daily views publish per (underlying, session, preset): end-of-day, else the latest intraday';
COMMENT ON COLUMN core.daily_snapshot.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN core.daily_snapshot.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN core.daily_snapshot.preset IS 'Conventions the rows were computed under';
COMMENT ON COLUMN core.daily_snapshot.valuation_ts IS 'Valuation instant of the published snapshot, UTC';
COMMENT ON COLUMN core.daily_snapshot.intraday IS 'True while the session has no computed end-of-day snapshot (the row is the latest intraday one)';
