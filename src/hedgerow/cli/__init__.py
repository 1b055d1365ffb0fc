"""Command-line tools: ``hedgerow dump`` (and the servers and shell as they land)."""
