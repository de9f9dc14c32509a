"""Readers from vendor chain files to the canonical chain schema."""
