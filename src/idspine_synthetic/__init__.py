"""Seeded synthetic customer sources with ground truth, for benchmarks and tests.

Not part of the product: idspine never imports it.
"""
