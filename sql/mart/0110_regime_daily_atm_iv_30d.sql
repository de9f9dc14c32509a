-- Constant-maturity (30 calendar days) at-the-money implied volatility of the session's chain, next to the regime
-- (gex.volatility.atm_iv_constant_maturity: smile at each expiry's forward, linear in total variance between expiries).
ALTER TABLE mart.regime_daily ADD COLUMN IF NOT EXISTS atm_iv_30d DOUBLE;
COMMENT ON COLUMN mart.regime_daily.atm_iv_30d IS 'ATM implied vol at a constant 30 calendar days (act/365): each expiry''s smile read at its forward (linear in log-moneyness), linear in total variance sigma^2*T between the expiries around 30 days, flat vol outside; decimal per year (0.18 = 18 vol points); NULL without a usable smile';
