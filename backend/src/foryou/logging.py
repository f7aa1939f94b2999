"""Structured logging: JSON when not on a terminal, a request id, and no secrets ever."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

# Any key that names a credential, a one-time value of the OAuth flow, or a header that
# carries one. Matched against the key after lower-casing; values under it are replaced.
_SENSITIVE_KEY = re.compile(
    r"(token|secret|password|passwd|authorization|cookie|signature|binder|"
    r"^code$|_code$|^state$|_state$|^otp|api_key|apikey|private_key|credential)",
)
# Values that look like credentials wherever they appear inside a string.
_SENSITIVE_VALUE = re.compile(
    r"(Bearer\s+[A-Za-z0-9._~+/=-]+"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
    r"|def50200[0-9a-fA-F]{8,}"
    r"|([?&](code|state|access_token|refresh_token|client_secret|signature)=)[^&\s\"']+)"
)


def _scrub_text(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        prefix = match.group(2)
        return f"{prefix}{REDACTED}" if prefix else REDACTED

    return _SENSITIVE_VALUE.sub(replace, value)


def scrub(value: Any, key: str | None = None) -> Any:
    """Return `value` with every credential-looking key or value redacted."""
    if (
        key is not None
        and key not in ("event", "level", "logger")
        and (_SENSITIVE_KEY.search(key.lower()))
    ):
        return REDACTED if value not in (None, "", False) else value
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, Mapping):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [scrub(item) for item in value]
    if isinstance(value, bytes):
        return "<bytes>"
    return value


def redact_processor(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the last line of defence against logging a secret."""
    redacted: MutableMapping[str, Any] = {}
    for key, value in event_dict.items():
        redacted[key] = scrub(value, key)
    return dict(redacted)


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_processor,
    ]


def _foreign_processors() -> list[Processor]:
    """For lines of the standard library's loggers (`foryou.upstream` among them): their
    `extra={...}` fields, say which account amoCRM paused or blocked, become keys of the
    line before redaction, like the keyword arguments of a structlog call."""
    shared = _shared_processors()
    return [*shared[:-1], structlog.stdlib.ExtraAdder(), shared[-1]]


def build_formatter(use_json: bool) -> logging.Formatter:
    """The formatter every handler uses: shared processors, redaction, then rendering."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared = _shared_processors()
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_foreign_processors(),
        processors=[
            *shared[1:],
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )


def configure_structlog() -> None:
    """Route structlog through the standard library, where handlers format and redact."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Set up structlog and route the standard library's loggers through the same pipeline."""
    use_json = (not sys.stderr.isatty()) if json is None else json
    configure_structlog()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(build_formatter(use_json))
    handler.set_name("foryou")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "foryou":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs full request lines; our own upstream log lines say what is needed.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # Uvicorn's access log prints query strings (the OAuth callback carries code and state);
    # the request middleware writes its own access line without them.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
