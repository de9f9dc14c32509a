-- One snapshot's contracts with the open interest known on its session: core.contracts_as_of_many (the one
-- definition of the as-of rule, sql/models/core/contracts_as_of_many.sql) restricted to one underlying.
CREATE OR REPLACE MACRO core.contracts_as_of(chain_underlying, chain_session, chain_valuation_ts) AS TABLE
SELECT * FROM core.contracts_as_of_many(chain_session, chain_valuation_ts, [chain_underlying]);
