"""Real peers for the test suite and the benchmarks (no mocks of systemd)."""
