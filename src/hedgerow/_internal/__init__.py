"""Package-private helpers: clock, invariants switch, failpoints. Not public API."""
