"""Benchmarks (not tests): each prints figures with the machine they ran on."""
