"""The `amocrm-emulator` command."""


def main() -> None:
    raise SystemExit("amocrm-emulator: not built yet")
