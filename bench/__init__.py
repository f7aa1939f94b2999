"""Benchmarks of ForYou CRM Connect: `python -m bench [name ...]` (see docs/benchmarks.md)."""
