"""The gex command-line interface."""
