"""Benchmarks of micrograd_like against micrograd, torch and plain floats (`make bench`)."""
