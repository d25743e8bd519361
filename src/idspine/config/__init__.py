"""Configuration: the YAML the user writes (model), checked and resolved into the frozen
config every stage reads (load, types, checks)."""
