"""The webhook body parser and the changes read from it: real-shaped bodies from amoCRM's
documentation and captures, malformed ones, limits and events we do not know."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from foryou.live.changes import account_of, changes_of
from foryou.live.form import BadForm, Limits, parse_form

STATUS_LEAD = (
    "leads[status][0][id]=31926520&leads[status][0][status_id]=10216994"
    "&leads[status][0][old_status_id]=10216995&leads[status][0][pipeline_id]=2116"
    "&leads[status][0][price]=1000&leads[status][0][responsible_user_id]=938348"
    "&leads[status][0][modified_user_id]=102525"
    "&leads[status][0][custom_fields][0][id]=5&leads[status][0][custom_fields][0][values][0][value]=x"
    "&account[subdomain]=test000002&account[id]=29000001"
    "&account[_links][self]=https%3A%2F%2Ftest000002.amocrm.ru"
)


def test_a_real_status_hook_becomes_one_lead_change() -> None:
    form = parse_form(STATUS_LEAD.encode())
    assert account_of(form) == 29000001
    (change,) = changes_of(form, 29000001)
    assert (change.entity, change.action, change.entity_id) == ("lead", "status", 31926520)
    assert change.responsible_ids == (938348,)
    assert change.assigned_to is None


def test_responsible_task_and_note_hooks() -> None:
    body = urlencode(
        {
            "leads[responsible][0][id]": "7",
            "leads[responsible][0][responsible_user_id]": "20",
            "leads[responsible][0][old_responsible_user_id]": "10",
            "task[update][0][id]": "99",
            "task[update][0][element_id]": "7",
            "task[update][0][element_type]": "2",
            "task[update][0][responsible_user_id]": "20",
            "task[update][0][action_close]": "1",
            "leads[note][0][note][id]": "5",
            "leads[note][0][note][element_id]": "7",
            "leads[note][0][note][metadata]": '{"a": 1}',
            "account[id]": "1",
        }
    ).encode()
    changes = {(c.entity, c.action): c for c in changes_of(parse_form(body), 1)}
    assigned = changes[("lead", "responsible")]
    assert assigned.responsible_ids == (10, 20)
    assert assigned.assigned_to == 20
    assert changes[("task", "update")].responsible_ids == (20,)
    assert changes[("lead", "note")].entity_id == 7


def test_unknown_events_are_tolerated_and_identical_items_share_a_fingerprint() -> None:
    body = b"talk[add][0][id]=1&leads[archive][0][id]=2&customers[add][0][id]=3&account[id]=1"
    assert changes_of(parse_form(body), 1) == []
    again = changes_of(parse_form(STATUS_LEAD.encode()), 29000001)
    assert (
        again[0].fingerprint
        == changes_of(parse_form(STATUS_LEAD.encode()), 29000001)[0].fingerprint
    )


@pytest.mark.parametrize(
    "body",
    [
        b"leads[status][0][id=1",  # unbalanced bracket
        b"leads]status[=1",
        b"a=1&a[b]=2",  # a value and a group at once
        b"\xff\xfe=1",  # not UTF-8
        b"a" * 300 + b"=1",  # key too long
        b"a[1][2][3][4][5][6][7][8][9]=1",  # too deep
        b"no-equals-sign&&",
    ],
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(BadForm):
        parse_form(body)


def test_limits_on_size_and_count() -> None:
    with pytest.raises(BadForm):
        parse_form(b"a=" + b"x" * 100, Limits(body_bytes=50))
    with pytest.raises(BadForm):
        parse_form(b"&".join(b"k%d=1" % i for i in range(30)), Limits(fields=10))
    assert parse_form(b"") == {}
