-- Expiry-filtered views (issue 12): per computed snapshot and preset, the GEX, flip, walls and share of each
-- expiry filter (gex.expiry_views: all, 0dte, ex-0dte, ex-next-expiry, ex-next-monthly, monthly), and the
-- profile of every filter but `all` (which is mart.gex_profile). Keyed like every mart since the snapshot key:
-- (session, underlying, valuation_ts, preset, ...). Snapshots computed before are recomputed once to fill them.
CREATE TABLE IF NOT EXISTS mart.expiry_views (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
    preset VARCHAR NOT NULL,
    expiries VARCHAR NOT NULL,
    contracts BIGINT NOT NULL,
    expirations BIGINT NOT NULL,
    total_gex_usd_per_1pct DOUBLE NOT NULL,
    call_gex_usd_per_1pct DOUBLE NOT NULL,
    put_gex_usd_per_1pct DOUBLE NOT NULL,
    gex_at_spot_model_usd_per_1pct DOUBLE NOT NULL,
    gamma_flip DOUBLE,
    flip_crossings DOUBLE[] NOT NULL,
    flip_distance_pct DOUBLE,
    regime VARCHAR,
    call_wall DOUBLE,
    put_wall DOUBLE,
    abs_gamma_strike DOUBLE,
    gross_gex_share DOUBLE NOT NULL,
    excluded_expiration DATE,
    PRIMARY KEY (session, underlying, valuation_ts, preset, expiries)
);

CREATE TABLE IF NOT EXISTS mart.gex_profile_by_expiries (
    session DATE NOT NULL,
    underlying VARCHAR NOT NULL,
    valuation_ts TIMESTAMPTZ NOT NULL,
    preset VARCHAR NOT NULL,
    expiries VARCHAR NOT NULL,
    spot_level DOUBLE NOT NULL,
    gex_usd_per_1pct DOUBLE NOT NULL,
    PRIMARY KEY (session, underlying, valuation_ts, preset, expiries, spot_level)
);

INSERT INTO mart.pending_recompute (underlying, session, valuation_ts, preset, reason)
SELECT DISTINCT underlying, session, valuation_ts, preset, 'expiry views added (migration 0006)'
FROM mart.regime_daily AS r
WHERE NOT EXISTS (
    SELECT 1 FROM mart.pending_recompute AS p
    WHERE p.underlying = r.underlying AND p.session = r.session AND p.valuation_ts = r.valuation_ts
      AND p.preset = r.preset
);
