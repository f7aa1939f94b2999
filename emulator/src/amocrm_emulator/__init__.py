"""A faithful local amoCRM for tests, benchmarks and the demo."""
