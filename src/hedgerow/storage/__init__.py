"""The LSM engine for one region's stores: WAL, memstore, store files, cache, compaction."""
