"""The scale harness: a generated world of tenants and side-by-side measurements."""
