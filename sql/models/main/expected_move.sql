-- PUBLISHED (docs/sql-contract.md): mart.expected_move of each (underlying, session)'s daily snapshot
-- (core.daily_snapshot: the end-of-day one, else the latest intraday), as the other daily views.
-- Columns are listed (not *) so the contract does not move when the mart table gains a column.
CREATE OR REPLACE VIEW main.expected_move AS
SELECT
    e.session,
    e.underlying,
    e.method,
    e.target_date,
    e.settlement,
    e.sessions_ahead,
    e.days_to_settlement,
    e.spot,
    e.move_points,
    e.move_pct,
    e.spot - e.move_points AS lower_points,
    e.spot + e.move_points AS upper_points,
    e.forward,
    e.forward_source,
    e.strike_below,
    e.strike_above,
    e.atm_iv,
    e.valuation_ts,
    e.preset
FROM mart.expected_move AS e
SEMI JOIN core.daily_snapshot AS d USING (underlying, session, preset, valuation_ts)
WHERE core.preset_selected(e.preset);
COMMENT ON VIEW main.expected_move IS 'Expected move of each computed (underlying, session): per expiry the ATM straddle at the forward (method straddle), and the 1- and 5-session one-standard-deviation moves from the 30-day ATM implied vol (method atm_iv); index points and percent of spot';
COMMENT ON COLUMN main.expected_move.session IS 'As-of trading session (New York date)';
COMMENT ON COLUMN main.expected_move.underlying IS 'Normalised ticker without caret: SPX, NDX, RUT, ...';
COMMENT ON COLUMN main.expected_move.method IS 'straddle: ATM straddle mid of one expiry, linear in strike to its forward; atm_iv: 30-day ATM implied vol times sqrt(sessions_ahead / 252), one standard deviation';
COMMENT ON COLUMN main.expected_move.target_date IS 'straddle: the expiration (New York date); atm_iv: the NYSE session sessions_ahead sessions after session';
COMMENT ON COLUMN main.expected_move.settlement IS 'straddle: AM (settles at the open of target_date) or PM (at its close); atm_iv: PM (the close of target_date)';
COMMENT ON COLUMN main.expected_move.sessions_ahead IS 'NYSE sessions after session up to and including target_date, count';
COMMENT ON COLUMN main.expected_move.days_to_settlement IS 'Calendar days from valuation_ts to the settlement instant (seconds / 86400)';
COMMENT ON COLUMN main.expected_move.spot IS 'Spot of the snapshot, currency per share';
COMMENT ON COLUMN main.expected_move.move_points IS 'Expected move, currency per share (index points): the straddle value, or spot * atm_iv * sqrt(sessions_ahead / 252)';
COMMENT ON COLUMN main.expected_move.move_pct IS 'Expected move, percent of spot (1.0 = 1%)';
COMMENT ON COLUMN main.expected_move.lower_points IS 'spot - move_points: the lower band, currency per share';
COMMENT ON COLUMN main.expected_move.upper_points IS 'spot + move_points: the upper band, currency per share';
COMMENT ON COLUMN main.expected_move.forward IS 'straddle: the expiry''s forward (put-call parity, else spot * exp((rate - dividend yield) * T)), currency per share; NULL for atm_iv';
COMMENT ON COLUMN main.expected_move.forward_source IS 'straddle: parity or carry (how the forward was found); NULL for atm_iv';
COMMENT ON COLUMN main.expected_move.strike_below IS 'straddle: quoted strike at or below the forward the straddle was interpolated from, currency per share; NULL for atm_iv';
COMMENT ON COLUMN main.expected_move.strike_above IS 'straddle: quoted strike at or above the forward, currency per share (equals strike_below when the forward is a strike); NULL for atm_iv';
COMMENT ON COLUMN main.expected_move.atm_iv IS 'atm_iv: the 30-day constant-maturity ATM implied vol used, decimal per year; NULL for straddle';
COMMENT ON COLUMN main.expected_move.valuation_ts IS 'Instant the models valued at, UTC (the daily snapshot of the session, core.daily_snapshot)';
COMMENT ON COLUMN main.expected_move.preset IS 'Conventions of the row: native (the default), perfiliev, perfiliev-early, gflows; rows of the preset named by the session variable preset (SET VARIABLE preset = ''perfiliev''; ''*'' for every preset; gex sql --preset), native when unset';
