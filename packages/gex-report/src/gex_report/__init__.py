"""Self-contained offline HTML dashboard of one (underlying, session) from the published warehouse views."""
