"""Migrations: up, down and up again on a fresh database, and no drift from the models."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from foryou.migrate import alembic_config, downgrade, upgrade


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)
    command.check(alembic_config(url))


def test_models_match_the_migrated_schema(database_url: str) -> None:
    # Raises when the models have changes no migration describes.
    command.check(alembic_config(database_url))


def test_migration_files_are_date_prefixed() -> None:
    versions = Path(__file__).parents[1] / "migrations" / "versions"
    names = [path.name for path in versions.glob("*.py")]
    assert names
    for name in names:
        assert re.match(r"^\d{4}-\d{2}-\d{2}-\d{4}_[a-z0-9_]+\.py$", name), name
