"""Unit tests for hedgerow.model.filters."""
