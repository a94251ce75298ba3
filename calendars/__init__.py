"""calendar feeds (see docs/architecture.md)."""
