"""clinical photos (see docs/architecture.md)."""
