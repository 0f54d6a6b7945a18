"""Benchmarks for Broker Academy: `python -m bench` (or `make bench`) measures the app against its own
baselines on loopback and writes bench/results.json. Each case group lives in its own module."""
