"""`make demo` across restarts: the web build is redone only for changed sources, the backend's
generated secrets are found again (so open tabs keep their session), one demo per state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from foryou.config import load_settings
from foryou.secrets_store import DEV_SECRETS_FILE, resolve_secrets

from scripts.demo import Ports, backend_env
from scripts.demo_state import (
    DemoState,
    StateInUse,
    mark_web_build,
    web_build_is_current,
    web_sources_hash,
)


@pytest.fixture
def mobile(tmp_path: Path) -> Path:
    root = tmp_path / "mobile"
    for relative, text in {
        "app/index.tsx": "export default function Home() {}\n",
        "app.config.ts": "export default {};\n",
        "package-lock.json": "{}\n",
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


def test_sources_hash_ignores_installed_and_generated_folders(mobile: Path) -> None:
    before = web_sources_hash(mobile, {})
    for generated in (
        "node_modules/react/index.js",
        "dist/index.html",
        ".expo/cache",
        "e2e/artifacts/shot.png",
    ):
        (mobile / generated).parent.mkdir(parents=True, exist_ok=True)
        (mobile / generated).write_text("generated\n")
    assert web_sources_hash(mobile, {}) == before


def test_sources_hash_follows_sources_and_build_environment(mobile: Path) -> None:
    before = web_sources_hash(mobile, {"HOME": "/home/broker"})
    assert web_sources_hash(mobile, {"HOME": "/elsewhere"}) == before  # not read by the build

    (mobile / "app/index.tsx").write_text("export default function Home() { return null; }\n")
    edited = web_sources_hash(mobile, {})
    assert edited != before

    (mobile / "app/new-screen.tsx").write_text("")
    assert web_sources_hash(mobile, {}) != edited

    baked = {"EXPO_PUBLIC_API_URL": "http://127.0.0.1:8100/api/v1"}
    assert web_sources_hash(mobile, baked) != web_sources_hash(mobile, {})
    assert web_sources_hash(mobile, {"FORYOU_APP_SCHEME": "other"}) != web_sources_hash(mobile, {})


def test_web_build_is_current_only_for_the_stamped_sources(mobile: Path) -> None:
    dist = mobile / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<html></html>")
    sources = web_sources_hash(mobile, {})
    assert not web_build_is_current(dist, sources)  # a build nobody stamped (e.g. by the e2e)

    mark_web_build(dist, sources)
    assert web_build_is_current(dist, sources)

    (mobile / "app/index.tsx").write_text("changed\n")
    assert not web_build_is_current(dist, web_sources_hash(mobile, {}))

    (dist / "index.html").unlink()  # an interrupted export
    assert not web_build_is_current(dist, sources)


def test_backend_secrets_are_generated_once_into_the_demo_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = DemoState(tmp_path / "demo")
    state.root.mkdir()
    client_secret = state.client_secret()
    env = backend_env(Ports(), state, client_secret)
    # The integration's secret is made once and kept, like the backend's own secrets.
    assert state.client_secret() == client_secret == env["FORYOU_AMOCRM_CLIENT_SECRET"]
    # The demo passes no secrets of its own: a fresh pair every run would sign out every tab.
    assert not {"FORYOU_JWT_SECRET", "FORYOU_ENCRYPTION_KEYS"} & env.keys()
    monkeypatch.delenv("FORYOU_JWT_SECRET", raising=False)
    monkeypatch.delenv("FORYOU_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setenv("FORYOU_DATABASE_URL", env["FORYOU_DATABASE_URL"])
    monkeypatch.setenv("FORYOU_PUBLIC_URL", env["FORYOU_PUBLIC_URL"])

    first_run = resolve_secrets(load_settings(_env_file=None))
    assert (state.root / DEV_SECRETS_FILE).exists()
    next_run = resolve_secrets(load_settings(_env_file=None))
    assert next_run == first_run
    assert first_run.jwt_secret

    state.reset()
    assert resolve_secrets(load_settings(_env_file=None)).jwt_secret != first_run.jwt_secret
    assert state.client_secret() != client_secret


def test_one_demo_per_state_and_reset_keeps_the_lock(tmp_path: Path) -> None:
    state = DemoState(tmp_path / "demo")
    held = state.lock()
    try:
        with pytest.raises(StateInUse) as in_use:
            DemoState(state.root).lock()
        assert in_use.value.holder == str(os.getpid())

        state.start_logs()
        state.database.write_bytes(b"sqlite")
        state.reset()
        assert [entry.name for entry in state.root.iterdir()] == ["demo.lock"]
        with pytest.raises(StateInUse):
            DemoState(state.root).lock()
    finally:
        held.close()
    DemoState(state.root).lock().close()  # free again once the holder is gone
