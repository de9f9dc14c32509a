COMMENT ON TABLE raw.quarantine IS 'Rejected records: load, file, line, raw text and reason (reader rejects and validation rejects)';
COMMENT ON COLUMN raw.quarantine.source_file IS 'Path of the file as ingested';
COMMENT ON COLUMN raw.quarantine.source_line IS '1-based physical line (JSON: record index) in the source file';
COMMENT ON COLUMN raw.quarantine.records IS 'Contract records this row stands for: 2 for a whole Cboe quote-table line (call and put) rejected by the reader, else 1';
COMMENT ON COLUMN raw.quarantine.symbol IS 'Contract symbol when the rejected record is one contract';
COMMENT ON COLUMN raw.quarantine.stage IS 'reader: the file reader could not make a contract; validation: a warehouse row rule failed';
COMMENT ON COLUMN raw.quarantine.reason IS 'Why, in words, with the offending value';
COMMENT ON COLUMN raw.quarantine.raw_text IS 'The source line (JSON: the record) as written';
COMMENT ON COLUMN raw.quarantine.load_id IS 'raw.load_manifest.load_id of the file the row came from';
