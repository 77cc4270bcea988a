"""Benchmarks, and the bench-only Django app they serve beside the product.

`bench.settings` installs this app and `bench.urls` adds its baseline view; the product's
own settings and URLs never see either.
"""
