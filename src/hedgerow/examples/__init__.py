"""Runnable examples (``python -m hedgerow.examples.tour DIR``)."""
