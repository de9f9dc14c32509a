COMMENT ON TABLE raw.rates IS 'Risk-free rate curve points: observation date, tenor (calendar days), continuous rate (decimal per year, act/365)';
COMMENT ON COLUMN raw.rates.source IS 'Reader format name the rate came from';
COMMENT ON COLUMN raw.rates.date IS 'Date the rate was observed (New York)';
COMMENT ON COLUMN raw.rates.tenor_days IS 'Calendar days to maturity (1 = overnight)';
COMMENT ON COLUMN raw.rates.rate IS 'Continuously compounded rate, decimal per year, 365-day year (0.045 = 4.5%)';
COMMENT ON COLUMN raw.rates.source_line IS '1-based line in the source file';
COMMENT ON COLUMN raw.rates.load_id IS 'raw.load_manifest.load_id of the file the row came from';
