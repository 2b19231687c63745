"""Benchmarks and the mutation fuzzer; ``bench.corpus`` builds the frames they share."""
