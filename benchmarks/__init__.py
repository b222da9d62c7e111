"""Benchmark scripts: run them with `./aign python -m benchmarks.<name>`; they print what they measure."""
