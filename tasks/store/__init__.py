"""The Parquet store: table schemas, atomic partition commits, and reuse of stored rows."""
