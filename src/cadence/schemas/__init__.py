"""JSON schemas of what cadence sends to other programs, shipped as data files."""
