"""Dealer gamma exposure analytics core (pure: arrays and frames in, arrays and frames out)."""
