"""Hedgerow: an HBase/Bigtable-class wide-column store in Python."""
