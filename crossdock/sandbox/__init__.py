"""Simulators of external systems for the demo, tests and load tests. Never imported by
production code paths."""
