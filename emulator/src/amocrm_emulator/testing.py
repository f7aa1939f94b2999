"""Helpers for tests and scripts that drive a real emulator process.

    with start_emulator(client_id="cid", client_secret="s", redirect_uri=URI) as emu:
        tokens = emu.token_for("broker1@reforyou.example")
        location = emu.consent(authorize_url, "broker1@reforyou.example", "broker1-pass")
        emu.control.advance_clock(86_400)

`start_emulator` spawns `python -m amocrm_emulator --control --port 0 …`, waits for its
"listening" line and stops it on exit. `consent` submits the consent page the way a browser
does (one cookie jar, the forms as served); it is the only consent driver, and `token_for`
builds on it: consent as a seeded user, then the code exchange over HTTP, exactly as an
integration does. `AmoHostTransport` / `AsyncAmoHostTransport` send requests for real amoCRM
hosts (`https://reforyou.amocrm.ru/...`) to the emulator with the real host in `Host`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import ssl
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

READY_PREFIX = "amocrm-emulator listening on "
START_TIMEOUT_SECONDS = 20.0
AMO_BASE_DOMAINS = ("amocrm.ru", "amocrm.com", "kommo.com")

__all__ = [
    "AmoHostTransport",
    "AsyncAmoHostTransport",
    "EmulatorControl",
    "EmulatorError",
    "Integration",
    "RunningEmulator",
    "amo_async_client",
    "amo_client",
    "consent",
    "is_amo_host",
    "start_emulator",
]


@functools.cache
def _tls() -> ssl.SSLContext:
    # Building a TLS context per client costs tens of milliseconds; the helpers make many
    # short-lived clients (the emulator speaks plain HTTP, other hosts may not).
    return ssl.create_default_context()


class EmulatorError(RuntimeError):
    """The emulator could not start, or a control call failed."""


def is_amo_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == base or host.endswith("." + base) for base in AMO_BASE_DOMAINS)


# ---- host-rewriting transports ------------------------------------------------------------
def _rewrite(request: httpx.Request, base: httpx.URL) -> httpx.Request:
    """A copy of `request` aimed at the emulator, keeping the amoCRM host in `Host`.

    The original request is left untouched, so cookies and redirects stay bound to the
    amoCRM host the caller addressed.
    """
    if not is_amo_host(request.url.host):
        return request
    url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
    return httpx.Request(
        request.method,
        url,
        headers=request.headers,
        stream=request.stream,
        extensions=request.extensions,
    )


class AmoHostTransport(httpx.BaseTransport):
    """Sync transport: any amoCRM/Kommo host goes to the emulator, other hosts pass through."""

    def __init__(self, emulator_url: str, inner: httpx.BaseTransport | None = None) -> None:
        self._base = httpx.URL(emulator_url)
        self._inner = inner or httpx.HTTPTransport(verify=_tls())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(_rewrite(request, self._base))

    def close(self) -> None:
        self._inner.close()


class AsyncAmoHostTransport(httpx.AsyncBaseTransport):
    """Async transport: any amoCRM/Kommo host goes to the emulator, other hosts pass through."""

    def __init__(self, emulator_url: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._base = httpx.URL(emulator_url)
        self._inner = inner or httpx.AsyncHTTPTransport(verify=_tls())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(_rewrite(request, self._base))

    async def aclose(self) -> None:
        await self._inner.aclose()


def amo_client(emulator_url: str, **kwargs: Any) -> httpx.Client:
    """An `httpx.Client` whose requests to amoCRM hosts reach the emulator."""
    kwargs.setdefault("verify", _tls())
    return httpx.Client(transport=AmoHostTransport(emulator_url), **kwargs)


def amo_async_client(emulator_url: str, **kwargs: Any) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` whose requests to amoCRM hosts reach the emulator."""
    kwargs.setdefault("verify", _tls())
    return httpx.AsyncClient(transport=AsyncAmoHostTransport(emulator_url), **kwargs)


# ---- control endpoints --------------------------------------------------------------------
class EmulatorControl:
    """Sync client of `/_emulator/…` (usable from async tests: calls are short)."""

    def __init__(self, base_url: str, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout

    def _client(self) -> httpx.Client:
        # A client per call: nothing to close, and no connection outlives the call.
        return httpx.Client(base_url=self.base_url, timeout=self._timeout, verify=_tls())

    def _call(
        self, method: str, path: str, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The JSON object the control endpoint answers; an error status raises."""
        with self._client() as http:
            response = http.request(method, f"/_emulator/{path}", json=json, params=params)
        if response.status_code >= 400:
            msg = f"{method} /_emulator/{path} -> {response.status_code}: {response.text}"
            raise EmulatorError(msg)
        answer: dict[str, Any] = response.json()
        return answer

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def users(
        self, *, role: str | None = None, account_subdomain: str | None = None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", "users")["users"]
        return [
            r
            for r in rows
            if (role is None or r["role"] == role)
            and (account_subdomain is None or r["account_subdomain"] == account_subdomain)
        ]

    def register_integration(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        disable_hook_url: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
            "disable_hook_url": disable_hook_url,
        }
        if name is not None:
            body["name"] = name
        return self._call("POST", "integrations", json=body)

    def requests(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        host: str | None = None,
        grant_type: str | None = None,
        since: int | None = None,
    ) -> list[dict[str, Any]]:
        params = {
            k: v
            for k, v in {
                "path": path,
                "method": method,
                "host": host,
                "grant_type": grant_type,
                "since": since,
            }.items()
            if v is not None
        }
        rows: list[dict[str, Any]] = self._call("GET", "requests", params=params)["requests"]
        return rows

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def fault(
        self,
        path: str,
        *,
        method: str | None = None,
        host: str | None = None,
        count: int = 1,
        status: int | None = None,
        delay: float | None = None,
        drop: bool = False,
        after_processing: bool = False,
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "faults",
            json={
                "path": path,
                "method": method,
                "host": host,
                "count": count,
                "status": status,
                "delay": delay,
                "drop": drop,
                "after_processing": after_processing,
            },
        )

    def faults(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", "faults")["faults"]
        return rows

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "clock", json={"advance": seconds})

    def set_clock_offset(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "clock", json={"offset": seconds})

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "clock")

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change switches (`refresh_reuse`, `rate_limit`, `rights_refusal`,
        `webhook_retry_delays`, … — see docs/emulator.md); with no arguments, read them."""
        if not changes:
            return self._call("GET", "settings")
        return self._call("POST", "settings", json=changes)

    def expire_tokens(self, user_id: int) -> dict[str, Any]:
        return self._call("POST", f"users/{user_id}/expire-tokens")

    def revoke(self, user_id: int) -> dict[str, Any]:
        return self._call("POST", f"users/{user_id}/revoke")

    def send_disable_hook(
        self, client_id: str, account_id: int, *, revoke_tokens: bool = True
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "disable-hook",
            json={
                "client_id": client_id,
                "account_id": account_id,
                "revoke_tokens": revoke_tokens,
            },
        )

    def act_as(self, user_id: int, account_id: int | None = None) -> Actor:
        """Act as that amoCRM user, as if in the web UI (events and webhooks fire)."""
        return Actor(self, user_id, account_id)

    def deliveries(
        self, *, destination: str | None = None, event: str | None = None
    ) -> list[dict[str, Any]]:
        """Webhook delivery attempts `{id, webhook_id, destination, event, body, attempt,
        status, error, due_at, sent_at}`; `status` is None while waiting, 0 without answer."""
        params = {k: v for k, v in {"destination": destination, "event": event}.items() if v}
        rows: list[dict[str, Any]] = self._call("GET", "webhook-deliveries", params=params)[
            "deliveries"
        ]
        return rows

    def wait_for_deliveries(
        self,
        count: int,
        *,
        destination: str | None = None,
        event: str | None = None,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """At least `count` finished attempts (delivery runs in the background)."""
        deadline = time.monotonic() + timeout
        while True:
            done = [
                d
                for d in self.deliveries(destination=destination, event=event)
                if d["status"] is not None
            ]
            if len(done) >= count or time.monotonic() > deadline:
                return done
            time.sleep(0.05)

    def clear_deliveries(self) -> None:
        self._call("DELETE", "webhook-deliveries")

    def reset(self) -> None:
        self._call("POST", "reset")

    def signing_key(self) -> str:
        with self._client() as http:
            return http.get("/_emulator/signing-key").text


@dataclass(frozen=True)
class ActAnswer:
    """amoCRM's answer to a change made through act-as: its status and JSON body."""

    status: int
    body: Any


class Actor:
    """One amoCRM user acting as in the web UI (`POST /_emulator/act-as/{user_id}`)."""

    def __init__(self, control: EmulatorControl, user_id: int, account_id: int | None) -> None:
        self._control = control
        self.user_id = user_id
        self._account_id = account_id

    def do(self, action: str, **fields: Any) -> ActAnswer:
        body = {"action": action, **fields}
        if self._account_id is not None:
            body["account_id"] = self._account_id
        with self._control._client() as http:
            response = http.post(f"/_emulator/act-as/{self.user_id}", json=body)
        return ActAnswer(response.status_code, response.json() if response.content else None)

    def create_lead(self, **fields: Any) -> ActAnswer:
        return self.do("create_lead", **fields)

    def update_lead(self, lead_id: int, **fields: Any) -> ActAnswer:
        return self.do("update_lead", lead_id=lead_id, **fields)

    def move_lead(self, lead_id: int, status_id: int, pipeline_id: int | None = None) -> ActAnswer:
        stage = {"status_id": status_id}
        if pipeline_id is not None:
            stage["pipeline_id"] = pipeline_id
        return self.update_lead(lead_id, **stage)

    def set_responsible(self, lead_id: int, user_id: int) -> ActAnswer:
        return self.update_lead(lead_id, responsible_user_id=user_id)

    def delete_lead(self, lead_id: int) -> ActAnswer:
        return self.do("delete_lead", lead_id=lead_id)

    def add_note(self, lead_id: int, text: str) -> ActAnswer:
        return self.do("add_note", lead_id=lead_id, text=text)

    def add_task(
        self, text: str, complete_till: int, lead_id: int | None = None, **fields: Any
    ) -> ActAnswer:
        if lead_id is not None:
            fields.update(entity_type="leads", entity_id=lead_id)
        return self.do("add_task", text=text, complete_till=complete_till, **fields)

    def update_task(self, task_id: int, **fields: Any) -> ActAnswer:
        return self.do("update_task", task_id=task_id, **fields)

    def complete_task(self, task_id: int, result_text: str | None = None) -> ActAnswer:
        return self.do("complete_task", task_id=task_id, result_text=result_text)


# ---- the emulator process -----------------------------------------------------------------
_running: list[RunningEmulator] = []


@dataclass(frozen=True)
class Integration:
    """An integration registered with the emulator: what a token exchange must present."""

    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class RunningEmulator:
    base_url: str
    port: int
    process: subprocess.Popen[str]
    control: EmulatorControl
    output: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    # The integration given on the command line, if any: `code_for`/`token_for` use it.
    integration: Integration | None = None

    def consent(
        self,
        authorize_url: str,
        login: str,
        password: str,
        decision: str = "allow",
        account: str | int | None = None,
    ) -> str:
        return consent(
            authorize_url, login, password, decision, account, emulator_url=self.base_url
        )

    def seeded_user(self, login: str) -> dict[str, Any]:
        """The seeded amoCRM user with this login (with its password), from the control API."""
        for user in self.control.users():
            if user["login"] == login:
                return user
        msg = f"no seeded amoCRM user {login!r}"
        raise EmulatorError(msg)

    def code_for(
        self,
        user: str | Mapping[str, Any],
        *,
        integration: Integration | None = None,
        account: str | int | None = None,
    ) -> str:
        """An authorization code for a seeded user (a login or a row of `control.users()`),
        obtained through the consent page as the user would: sign in, "Разрешить"."""
        return self._consent_answer(user, integration, account)["code"]

    def token_for(
        self,
        user: str | Mapping[str, Any],
        *,
        integration: Integration | None = None,
        account: str | int | None = None,
    ) -> dict[str, Any]:
        """A real token answer (`access_token`, `refresh_token`, `expires_in`, …) for a seeded
        user: consent, then the code exchange at the account's own host over HTTP."""
        chosen = integration or self._integration()
        answer = self._consent_answer(user, chosen, account)
        with self.client(timeout=15.0) as http:
            response = http.post(
                f"https://{answer['referer']}/oauth2/access_token",
                json={
                    "client_id": chosen.client_id,
                    "client_secret": chosen.client_secret,
                    "grant_type": "authorization_code",
                    "code": answer["code"],
                    "redirect_uri": chosen.redirect_uri,
                },
            )
        if response.status_code != 200:
            msg = f"code exchange answered {response.status_code}: {response.text[:300]}"
            raise EmulatorError(msg)
        tokens: dict[str, Any] = response.json()
        return tokens

    def _integration(self) -> Integration:
        if self.integration is None:
            msg = "the emulator was started without an integration: pass integration="
            raise EmulatorError(msg)
        return self.integration

    def _consent_answer(
        self,
        user: str | Mapping[str, Any],
        integration: Integration | None,
        account: str | int | None,
    ) -> dict[str, str]:
        row = self.seeded_user(user) if isinstance(user, str) else user
        client_id = (integration or self._integration()).client_id
        # The consent page of the user's own brand (amoCRM or Kommo), as their browser opens it.
        query = urlencode({"client_id": client_id, "state": "testing", "mode": "popup"})
        authorize_url = f"https://www.{row.get('base_domain', 'amocrm.ru')}/oauth?{query}"
        location = self.consent(authorize_url, row["login"], row["password"], account=account)
        answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if "code" not in answer:
            msg = f"consent of {row['login']} ended without a code: {answer}"
            raise EmulatorError(msg)
        return answer

    def client(self, **kwargs: Any) -> httpx.Client:
        return amo_client(self.base_url, **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return amo_async_client(self.base_url, **kwargs)


def _flags(options: Mapping[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        else:
            args.extend([flag, str(value)])
    return args


def _integration_of(flags: Mapping[str, Any]) -> Integration | None:
    names = ("client_id", "client_secret", "redirect_uri")
    if not all(flags.get(name) for name in names):
        return None
    return Integration(*(str(flags[name]) for name in names))


def _drain(stream: Any, sink: deque[str]) -> None:
    for line in stream:
        sink.append(line.rstrip("\n"))


@contextlib.contextmanager
def start_emulator(**flags: Any) -> Iterator[RunningEmulator]:
    """Run a real emulator process on a free loopback port for the duration of the block.

    Keyword arguments are command-line flags (`client_id="x"` → `--client-id x`,
    `refresh_reuse="grace"`, `rate_limit=0`, `seed=3`, `state_file=path`). `--control` and
    `--port 0` are always given; `host` defaults to 127.0.0.1.
    """
    options = {"host": "127.0.0.1", **flags, "port": 0, "control": True}
    command = [sys.executable, "-m", "amocrm_emulator", *_flags(options)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output: deque[str] = deque(maxlen=200)
    base_url = None
    drain: threading.Thread | None = None
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    try:
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line.rstrip("\n"))
            if line.startswith(READY_PREFIX):
                base_url = line[len(READY_PREFIX) :].strip()
                break
        if base_url is None:
            process.kill()
            process.wait(5)
            rest = process.stdout.read() if process.stdout else ""
            msg = "the emulator did not start:\n" + "\n".join(output) + rest
            raise EmulatorError(msg)
        drain = threading.Thread(target=_drain, args=(process.stdout, output), daemon=True)
        drain.start()
        running = RunningEmulator(
            base_url=base_url,
            port=httpx.URL(base_url).port or 80,
            process=process,
            control=EmulatorControl(base_url),
            output=output,
            integration=_integration_of(flags),
        )
        _running.append(running)
        try:
            yield running
        finally:
            _running.remove(running)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if drain is not None:
            drain.join(5)
        if process.stdout is not None:
            process.stdout.close()


# ---- consent as a browser submits it -------------------------------------------------------
@dataclass
class _Form:
    action: str | None
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    selects: dict[str, list[str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """Collects forms the way a browser sees them: inputs, selects and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                _Form(action=attr.get("action"), method=(attr.get("method") or "get").lower())
            )
            return
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and attr.get("name"):
            kind = attr.get("type", "text").lower()
            if kind in ("submit", "button"):
                form.buttons.append((attr["name"], attr.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in attr:
                    form.fields.append((attr["name"], attr.get("value", "on")))
            else:
                form.fields.append((attr["name"], attr.get("value", "")))
        elif tag == "button" and attr.get("name"):
            if attr.get("type", "submit").lower() == "submit":
                form.buttons.append((attr["name"], attr.get("value", "")))
        elif tag == "select" and attr.get("name"):
            self._select = attr["name"]
            form.selects[self._select] = []
        elif tag == "option" and self._select is not None:
            form.selects[self._select].append(attr.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _only_form(html: str, url: str) -> _Form:
    parser = _FormParser()
    parser.feed(html)
    if len(parser.forms) != 1:
        msg = f"expected one form on {url}, found {len(parser.forms)}"
        raise EmulatorError(msg)
    return parser.forms[0]


def _submit(client: httpx.Client, url: str, form: _Form, values: dict[str, str]) -> httpx.Response:
    data = [(k, values.pop(k) if k in values else v) for k, v in form.fields]
    for name, options in form.selects.items():
        data.append((name, values.pop(name) if name in values else (options[0] if options else "")))
    data.extend(values.items())
    target = urljoin(url, form.action) if form.action else url
    if form.method != "post":
        msg = f"the form on {url} is not a POST form"
        raise EmulatorError(msg)
    return client.post(target, data=dict(data))


def consent(
    authorize_url: str,
    login: str,
    password: str,
    decision: str = "allow",
    account: str | int | None = None,
    *,
    emulator_url: str | None = None,
) -> str:
    """Open the consent page, sign in, choose the account, click "Разрешить"/"Отказать".

    Returns the `Location` of the final redirect (to the integration's Redirect URI) without
    following it. `authorize_url` may name a real amoCRM host (`https://www.amocrm.ru/oauth?…`)
    or the emulator's own address; `emulator_url` defaults to the emulator this process
    started last.
    """
    if decision not in ("allow", "deny"):
        msg = "decision is 'allow' or 'deny'"
        raise ValueError(msg)
    if emulator_url is None:
        host = urlsplit(authorize_url).hostname or ""
        if not is_amo_host(host):
            emulator_url = f"{urlsplit(authorize_url).scheme}://{urlsplit(authorize_url).netloc}"
        elif _running:
            emulator_url = _running[-1].base_url
        else:
            msg = "no emulator_url given and no emulator started by this process"
            raise EmulatorError(msg)
    with amo_client(emulator_url, follow_redirects=False, timeout=15.0) as client:
        page = client.get(authorize_url)
        if page.status_code != 200:
            msg = f"consent page answered {page.status_code}: {page.text[:300]}"
            raise EmulatorError(msg)
        form = _only_form(page.text, authorize_url)
        names = {name for name, _ in form.fields}
        if "login" in names and "password" in names:
            page = _submit(client, authorize_url, form, {"login": login, "password": password})
            if page.status_code != 200:
                msg = f"sign-in answered {page.status_code}: {page.text[:300]}"
                raise EmulatorError(msg)
            form = _only_form(page.text, authorize_url)
        values = {"decision": decision}
        if not any(name == "decision" and value == decision for name, value in form.buttons):
            msg = f"the consent form has no {decision!r} button"
            raise EmulatorError(msg)
        if account is not None:
            values["account"] = str(account)
        answer = _submit(client, authorize_url, form, values)
        if answer.status_code not in (302, 303):
            msg = f"consent answered {answer.status_code}: {answer.text[:300]}"
            raise EmulatorError(msg)
        return answer.headers["location"]
