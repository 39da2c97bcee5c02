"""Benchmarks: fan-out speed and memory against the transport's ceiling and a peer, and a chaos run."""
