"""Regions: a key range of one table with a store per family, MVCC and row locks."""
