"""Test and demo controls under `/_emulator/`, mounted only with `--control`."""
