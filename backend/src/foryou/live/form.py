"""A strict parser of amoCRM's webhook bodies: form-encoded, PHP-bracket keys
(`leads[status][0][id]=1`), every value a string.

Limits keep a hostile body from costing much: the body size is checked before parsing, and
the number of fields, the nesting depth and the length of a key are bounded. Anything outside
them, or a key that is not `name[part][part]…`, makes the whole body invalid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

MAX_BODY_BYTES = 256 * 1024
MAX_FIELDS = 2_000
MAX_DEPTH = 8
MAX_KEY_LENGTH = 200

_KEY = re.compile(r"^([A-Za-z0-9_]+)((?:\[[A-Za-z0-9_]*\])*)$")
_PART = re.compile(r"\[([A-Za-z0-9_]*)\]")

Form = dict[str, Any]


class BadForm(ValueError):
    """The body is not a form amoCRM would send."""


@dataclass(frozen=True)
class Limits:
    body_bytes: int = MAX_BODY_BYTES
    fields: int = MAX_FIELDS
    depth: int = MAX_DEPTH
    key_length: int = MAX_KEY_LENGTH


def parse_form(body: bytes, limits: Limits = Limits()) -> Form:
    """Nested dicts of the body (list indexes stay dict keys: "0", "1", …)."""
    if len(body) > limits.body_bytes:
        raise BadForm("body too large")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=limits.fields
        )
    except (UnicodeDecodeError, ValueError):
        raise BadForm("not a form") from None
    form: Form = {}
    for key, value in pairs:
        if len(key) > limits.key_length:
            raise BadForm("key too long")
        match = _KEY.match(key)
        if match is None:
            raise BadForm("malformed key")
        parts = [match.group(1), *_PART.findall(match.group(2))]
        if len(parts) > limits.depth:
            raise BadForm("nested too deep")
        node = form
        for index, part in enumerate(parts):
            if part == "":
                # `a[]=x` appends: the next free index.
                part = str(len(node))
            if index == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise BadForm("a key is both a value and a group")
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise BadForm("a key is both a value and a group")
                node = child
    return form
