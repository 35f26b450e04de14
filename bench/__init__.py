"""Sanji's benchmarks (``python -m bench.run``), kept out of the test suite; results in bench/results.json."""
