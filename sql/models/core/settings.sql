COMMENT ON TABLE core.settings IS 'Named numeric settings of the core views (fallback rate, staleness limits), each with its unit';
COMMENT ON COLUMN core.settings.name IS 'Setting name (fallback_rate, rate_max_age_days, hedge_*)';
COMMENT ON COLUMN core.settings.value IS 'The setting''s value, in unit';
COMMENT ON COLUMN core.settings.unit IS 'Unit of value';
COMMENT ON COLUMN core.settings.description IS 'What the setting does';
