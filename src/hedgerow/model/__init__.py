"""Pure data and byte encodings: cells, keys, schemas, mutations, filters. No I/O, no threads."""
