-- Warehouse-wide settings the core views read (one number each, with its unit).
-- Change one with gex_warehouse.settings.set_setting(con, name, value) or an UPDATE.
CREATE TABLE IF NOT EXISTS core.settings (
    name VARCHAR PRIMARY KEY,
    value DOUBLE NOT NULL,
    unit VARCHAR NOT NULL,
    description VARCHAR NOT NULL
);
COMMENT ON TABLE core.settings IS 'Named numeric settings of the core views (fallback rate, staleness limits), each with its unit';
