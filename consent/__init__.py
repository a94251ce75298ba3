"""consent forms (see docs/architecture.md)."""
