"""SQL as sqlglot trees, the dialect of each engine, comparators and UDFs."""
