"""Marks the tests that `make test-fast` runs: those that start no process and open no database.

The mark is worked out at collection, so a new test lands on the right side by itself:
- fixtures from the suites' conftest files start the emulator, a backend or a scripted server,
  or open PostgreSQL / Redis, so a test that uses any of them is not a unit test;
- a test module that can start processes (it holds `subprocess` or `multiprocessing`, or a
  helper from a module that does, such as `start_emulator`) is not unit as a whole;
- the `slow`, `postgres` and `redis` marks already say a test needs more than the interpreter.
A SQLite file in `tmp_path` is opened in-process and does not count as a database server.
"""

from __future__ import annotations

import inspect
import multiprocessing
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

PROCESS_MODULES = (subprocess, multiprocessing)
HEAVY_MARKS = ("slow", "postgres", "redis")


def _holds_process_module(module: ModuleType) -> bool:
    return any(value is starter for value in vars(module).values() for starter in PROCESS_MODULES)


def _starts_processes(module: ModuleType) -> bool:
    """The module, or a module one of its names comes from, holds `subprocess`/`multiprocessing`."""
    if _holds_process_module(module):
        return True
    origins = {getattr(value, "__module__", None) for value in vars(module).values()}
    return any(
        _holds_process_module(sys.modules[name])
        for name in origins
        if isinstance(name, str) and name in sys.modules and name != module.__name__
    )


def _uses_suite_fixture(item: pytest.Function) -> bool:
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        for definition in definitions:
            source = inspect.getsourcefile(definition.func)
            if source is not None and Path(source).name == "conftest.py":
                return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    process_modules: dict[str, bool] = {}
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        if any(item.get_closest_marker(name) for name in HEAVY_MARKS):
            continue
        module = item.module
        if module.__name__ not in process_modules:
            process_modules[module.__name__] = _starts_processes(module)
        if process_modules[module.__name__] or _uses_suite_fixture(item):
            continue
        item.add_marker(pytest.mark.unit)
