"""Developer scripts run from the repository root (`uv run python -m scripts.<name>`)."""
