-- Which position templates the flows publish hedging advice for (mart.hedge_advice), and whether each is on.
-- Seeded by 0141 with every template gex.advisor knows; the two standard gamma-scalping setups are enabled.
-- Turn one on or off with: UPDATE core.hedge_templates SET enabled = true WHERE template = 'long-atm-calls-4'.
CREATE TABLE IF NOT EXISTS core.hedge_templates (
    template VARCHAR PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    description VARCHAR NOT NULL
);
COMMENT ON TABLE core.hedge_templates IS 'Position templates the flows publish hedging advice for (mart.hedge_advice); enabled = published';
COMMENT ON COLUMN core.hedge_templates.template IS 'Template name known to gex.advisor (gex advise --template NAME)';
COMMENT ON COLUMN core.hedge_templates.enabled IS 'Publish advice for this template every session';
COMMENT ON COLUMN core.hedge_templates.description IS 'What the position is';
