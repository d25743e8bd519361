"""The pipeline stages, each a planning module with no I/O that returns `Step`s."""
