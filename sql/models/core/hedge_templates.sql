COMMENT ON TABLE core.hedge_templates IS 'Position templates the flows publish hedging advice for (mart.hedge_advice); enabled = published';
COMMENT ON COLUMN core.hedge_templates.template IS 'Template name known to gex.advisor (gex advise --template NAME)';
COMMENT ON COLUMN core.hedge_templates.enabled IS 'Publish advice for this template every session';
COMMENT ON COLUMN core.hedge_templates.description IS 'What the position is';
