"""The one way the service talks to amoCRM.

Every request takes a slot of its account's budget, respects the account's circuit, is tried
again only when that cannot do harm, and fails with a vendor error of
`foryou.integrations.amocrm.errors` (carrying amoCRM's status and the wait, when known).
Answers that are amoCRM's verdict on the request itself (200, 204, 400, 401, 404 and the
like) are returned to the caller untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import logging
import math
import time
from collections.abc import Mapping
from typing import Any, NoReturn

import anyio.lowlevel
import httpx

from foryou.integrations.amocrm.errors import (
    AmoBadResponse,
    AmoBlocked,
    AmoCrmError,
    AmoPaymentRequired,
    AmoRateLimited,
    AmoTimeout,
    AmoUnavailable,
)

from .circuit import Circuit
from .errors import LimiterUnavailable, RateLimitWaitExceeded
from .metrics import METRICS, UpstreamMetrics, path_template
from .ratelimit import RateLimiter
from .retry import IDEMPOTENT_METHODS, RetryPolicy, parse_retry_after

__all__ = ["UpstreamClient"]

logger = logging.getLogger("foryou.upstream")

# Failures before a single byte of the request left: safe to try again for any method.
_NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
_TOO_MANY_REQUESTS = 429
_FORBIDDEN = 403
_PAYMENT_REQUIRED = 402
_GATEWAY_TIMEOUT = 504
_SERVICE_UNAVAILABLE = 503
_SERVER_ERROR = 500
# Without a Retry-After, a 429 holds the account for one second: amoCRM counts per second.
_DEFAULT_429_PAUSE = 1.0
# A caller whose booked slot fell inside a pause books again; this bounds how often.
_MAX_SLOT_ROUNDS = 3
# Retry-After suggested to our client when the shared budget store does not answer.
_STORE_RETRY_AFTER = 5.0


def _failure_reason(failure: AmoCrmError) -> str:
    """The retry metric's reason for a request that did not get an answer."""
    return "amo_timeout" if isinstance(failure, AmoTimeout) else "amo_unavailable"


def _is_block_page(response: httpx.Response) -> bool:
    """amoCRM's account block is a 403 with its HTML page (nginx); any other 403 (a JSON
    problem body, an empty body) is a refusal of this user's rights for this one call and
    must not stop the whole agency's calls."""
    if response.status_code != _FORBIDDEN:
        return False
    content_type = response.headers.get("content-type", "").lower()
    if "json" in content_type:
        return False
    if "html" in content_type:
        return True
    return response.content.lstrip()[:1] == b"<"


def _retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` of an answer: the header, else Kommo's ``retry_after`` in a JSON body."""
    from_header = parse_retry_after(response.headers.get("retry-after"))
    if from_header is not None:
        return from_header
    if "json" not in response.headers.get("content-type", "").lower():
        return None
    try:
        body = jsonlib.loads(response.content)
    except ValueError:
        return None
    value = body.get("retry_after") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


class UpstreamClient:
    """Sends requests to amoCRM under the per-account budget, circuit and retry policy.

    Args:
        http: The shared `httpx.AsyncClient`.
        limiter: Per-account request budget (Redis-backed when several processes run).
        circuit: Per-account block and pause state.
        policy: Retries, waits and timeouts.
        metrics: Where requests, waits and circuit openings are counted.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        circuit: Circuit,
        policy: RetryPolicy | None = None,
        metrics: UpstreamMetrics = METRICS,
    ) -> None:
        self.http = http
        self.limiter = limiter
        self.circuit = circuit
        self.policy = policy if policy is not None else RetryPolicy()
        self.metrics = metrics
        self._ready = False

    async def request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        account_key: str,
        idempotent: bool | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        # Per attempt, handed to httpx; waits for slots and backoff are bounded by the policy.
        timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109
    ) -> httpx.Response:
        """Send one request to amoCRM for the account ``account_key``.

        Args:
            method: HTTP method.
            url: Absolute URL on amoCRM.
            account_key: The amoCRM account the request counts against (its id).
            idempotent: Whether sending the request twice is harmless. By default true for
                GET, HEAD, OPTIONS, PUT and DELETE. Only idempotent requests are retried after
                they may have reached amoCRM; any request is retried when it could not be sent.
            timeout: Timeout of each attempt; the policy's default when omitted.

        Returns:
            amoCRM's answer when it is not a failure of amoCRM itself. Redirects are returned,
            never followed.

        Raises:
            AmoTimeout, AmoUnavailable (AmoRateLimited, AmoBlocked), AmoBadResponse (a 5xx),
            AmoPaymentRequired: see `foryou.integrations.amocrm.errors`.
        """
        verb = method.upper()
        replayable = idempotent if idempotent is not None else verb in IDEMPOTENT_METHODS
        target = httpx.URL(url)
        path = path_template(target.path)
        attempt_timeout = timeout if timeout is not None else self.policy.timeout
        attempt = 1
        if not self._ready:
            # httpx's transport loads its async backend on the first request of a process,
            # which takes about 100 ms; a request that late would squeeze the next ones into
            # one second at amoCRM. Loading it before the first slot is booked avoids that.
            await anyio.lowlevel.checkpoint()
            self._ready = True
        while True:
            try:
                await self._take_slot(account_key)
            except AmoCrmError as refusal:
                # Only before the first attempt: a retry held back here follows an attempt
                # amoCRM did see.
                refusal.never_sent = attempt == 1
                raise
            started = time.perf_counter()
            try:
                response = await self.http.request(
                    verb,
                    target,
                    headers=headers,
                    json=json,
                    data=data,
                    params=params,
                    timeout=attempt_timeout,
                    follow_redirects=False,
                )
            except httpx.TransportError as exc:
                failure = self._transport_failure(exc, verb, path, replayable)
                may_resend = isinstance(exc, _NOT_SENT) or replayable
                if may_resend and attempt < self.policy.max_attempts:
                    await self._back_off(attempt, None, reason=_failure_reason(failure))
                    attempt += 1
                    continue
                raise failure from exc
            self.metrics.duration.labels(verb, path).observe(time.perf_counter() - started)
            status = response.status_code
            self.metrics.requests.labels(verb, path, str(status)).inc()

            if status == _TOO_MANY_REQUESTS:
                pause = await self._pause_account(account_key, response)
                may_resend = replayable and attempt < self.policy.max_attempts
                if may_resend and pause <= self.policy.max_retry_after:
                    await self._back_off(attempt, pause, reason="429")
                    attempt += 1
                    continue
                raise AmoRateLimited(
                    f"amoCRM refused {verb} {path} with 429 (too many requests)",
                    retry_after=pause,
                    upstream_status=status,
                )
            if _is_block_page(response):
                await self._block_account(account_key, response, verb, path)
            if status == _PAYMENT_REQUIRED:
                raise AmoPaymentRequired(
                    "the amoCRM subscription of this account has ended", upstream_status=status
                )
            if status in self.policy.retry_statuses:
                retry_after = _retry_after(response)
                may_resend = replayable and attempt < self.policy.max_attempts
                if may_resend and (
                    retry_after is None or retry_after <= self.policy.max_retry_after
                ):
                    await self._back_off(attempt, retry_after, reason=str(status))
                    attempt += 1
                    continue
                self._raise_gateway_failure(verb, path, status, retry_after, replayable)
            if status >= _SERVER_ERROR:
                raise AmoBadResponse(f"amoCRM answered {verb} {path} with {status}", status)
            return response

    async def idle(self, key: str) -> bool:
        """Whether a request for account ``key`` would go at once: no pause or block, and no
        slot booked ahead. Work nobody waits for (cache warming) asks first and yields."""
        try:
            state = await self.circuit.state(key)
            return state.closed and await self.limiter.booked_ahead(key) == 0
        except LimiterUnavailable:
            return False

    async def _take_slot(self, key: str) -> None:
        """Wait until the account's circuit lets a request through and it has a free slot.

        When the shared budget cannot be read, no call is made: without it, every process
        would send at the full rate, and amoCRM's answer to that is a block of the whole
        account, which hurts every broker of the agency far longer than our outage.
        """
        try:
            await self._wait_for_slot(key)
        except LimiterUnavailable as exc:
            self.metrics.circuit_rejections.labels("store_unavailable").inc()
            logger.error("the shared amoCRM request budget is unreachable; no call was made")
            raise AmoUnavailable(
                "our shared amoCRM request budget is unreachable; no call was made",
                retry_after=_STORE_RETRY_AFTER,
            ) from exc

    async def _wait_for_slot(self, key: str) -> None:
        for _ in range(_MAX_SLOT_ROUNDS):
            state = await self.circuit.state(key)
            if state.blocked_for > 0:
                self.metrics.circuit_rejections.labels("blocked").inc()
                raise AmoBlocked(
                    "amoCRM has blocked this account; no calls are made until the block ends",
                    retry_after=state.blocked_for,
                )
            if state.paused_for > 0:
                if state.paused_for > self.policy.max_queue_wait:
                    self.metrics.circuit_rejections.labels("paused").inc()
                    raise AmoRateLimited(
                        "amoCRM asked to wait before the next call to this account",
                        retry_after=state.paused_for,
                    )
                await asyncio.sleep(state.paused_for)
            try:
                waited = await self.limiter.acquire(key, max_wait=self.policy.max_queue_wait)
            except RateLimitWaitExceeded as exc:
                self.metrics.limiter_rejections.inc()
                raise AmoRateLimited(
                    "this account's amoCRM request budget is booked further ahead than we wait",
                    retry_after=exc.retry_after,
                ) from exc
            self.metrics.limiter_wait.observe(waited)
            if waited == 0:
                return
            # The circuit may have opened while this caller slept until its slot.
            after = await self.circuit.state(key)
            if after.closed:
                return
        raise AmoRateLimited(
            "amoCRM keeps asking to wait before calls to this account",
            retry_after=self.policy.max_queue_wait,
        )

    async def _pause_account(self, key: str, response: httpx.Response) -> float:
        retry_after = _retry_after(response)
        pause = retry_after if retry_after is not None and retry_after > 0 else _DEFAULT_429_PAUSE
        # Both: the circuit stops callers that already hold a slot, the limiter books new
        # callers after the pause instead of letting them pile up at its end. If the shared
        # store cannot take it, this caller still gets amoCRM's verdict.
        with contextlib.suppress(LimiterUnavailable):
            await self.circuit.pause(key, pause)
            await self.limiter.pause(key, pause)
        self.metrics.circuit_opens.labels("paused").inc()
        logger.warning(
            "amoCRM answered 429; calls to the account are paused",
            extra={"account_key": key, "pause_seconds": pause},
        )
        return pause

    async def _block_account(
        self, key: str, response: httpx.Response, verb: str, path: str
    ) -> NoReturn:
        retry_after = _retry_after(response) or 0.0
        block_for = max(self.circuit.block_seconds, retry_after)
        with contextlib.suppress(LimiterUnavailable):
            await self.circuit.block(key, block_for)
        self.metrics.circuit_opens.labels("blocked").inc()
        logger.error(
            "amoCRM blocked the account (403 block page); calls stop until the block ends",
            extra={"account_key": key, "block_seconds": block_for, "method": verb, "path": path},
        )
        raise AmoBlocked(
            "amoCRM has blocked this account for too many requests",
            retry_after=block_for,
            upstream_status=_FORBIDDEN,
        )

    async def _back_off(self, attempt: int, retry_after: float | None, *, reason: str) -> None:
        delay = retry_after if retry_after is not None else self.policy.backoff(attempt)
        self.metrics.retries.labels(reason).inc()
        await asyncio.sleep(delay)

    def _transport_failure(
        self, exc: httpx.TransportError, verb: str, path: str, replayable: bool
    ) -> AmoCrmError:
        if isinstance(exc, _NOT_SENT):
            self.metrics.requests.labels(verb, path, "connect_error").inc()
            return AmoUnavailable(
                f"amoCRM could not be reached for {verb} {path}: {type(exc).__name__}"
            )
        if isinstance(exc, httpx.TimeoutException):
            self.metrics.requests.labels(verb, path, "timeout").inc()
            return AmoTimeout(
                f"amoCRM did not answer {verb} {path} in time", outcome_unknown=not replayable
            )
        self.metrics.requests.labels(verb, path, "dropped").inc()
        return AmoUnavailable(
            f"the connection to amoCRM broke during {verb} {path}: {type(exc).__name__}",
            outcome_unknown=not replayable,
        )

    @staticmethod
    def _raise_gateway_failure(
        verb: str, path: str, status: int, retry_after: float | None, replayable: bool
    ) -> NoReturn:
        # Behind a 502 or 504 amoCRM itself may have done the work; a 503 refused it.
        unknown = not replayable and status != _SERVICE_UNAVAILABLE
        message = f"amoCRM answered {verb} {path} with {status}"
        if status == _GATEWAY_TIMEOUT:
            raise AmoTimeout(
                message, retry_after=retry_after, upstream_status=status, outcome_unknown=unknown
            )
        raise AmoUnavailable(
            message, retry_after=retry_after, upstream_status=status, outcome_unknown=unknown
        )
