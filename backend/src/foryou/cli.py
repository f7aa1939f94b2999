"""The `foryou` command."""


def main() -> None:
    raise SystemExit("foryou: not built yet")
