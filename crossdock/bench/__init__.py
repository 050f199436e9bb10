"""Benchmarks behind `crossdock bench <name>`: each returns a dict of figures with the reference it
is compared to, measured in the same run."""
