"""Deterministic seed data: the same `--seed` always gives the same accounts, users and CRM.

Ids of accounts, users, pipelines and statuses are fixed whatever the seed, so tests and
docs can name them; names, leads, contacts and notes vary with the seed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace

from amocrm_emulator.state.models import (
    Account,
    Contact,
    CustomField,
    Group,
    JSONDict,
    Lead,
    LeadsView,
    Membership,
    Note,
    Pipeline,
    Role,
    Status,
    Tag,
    User,
)
from amocrm_emulator.state.store import State

WON_STATUS_ID = 142
LOST_STATUS_ID = 143

# A fixed "seed time" keeps the data identical between runs: 2026-01-15 00:00 UTC.
SEED_EPOCH = 1_768_435_200

DEFAULT_ACCOUNT_ID = 31920194


@dataclass(frozen=True)
class _UserSeed:
    id: int
    name: str
    login: str
    password: str
    role: Role
    group: str
    leads_view: LeadsView
    lead_share: int  # relative number of leads this user is responsible for


def _broker(
    user_id: int, name: str, login: str, group: str, leads_view: LeadsView, lead_share: int
) -> _UserSeed:
    """A seeded broker; the password is the login's local part with "-pass"."""
    local_part = login.partition("@")[0]
    return _UserSeed(
        user_id, name, login, f"{local_part}-pass", "broker", group, leads_view, lead_share
    )


@dataclass(frozen=True)
class _AccountSeed:
    account: Account
    groups: tuple[str, ...]
    users: tuple[_UserSeed, ...]
    pipelines: tuple[tuple[int, str, tuple[tuple[int, str, str], ...]], ...]
    lead_count: int
    lang: str


_REFORYOU = _AccountSeed(
    account=Account(
        id=DEFAULT_ACCOUNT_ID,
        name="reforyou",
        subdomain="reforyou",
        base_domain="amocrm.ru",
        api_domain="api-b.amocrm.ru",
        country="RU",
        currency="RUB",
        currency_symbol="₽",
        created_at=1_577_836_800,
    ),
    groups=("Отдел продаж", "Vladimir Team"),
    users=(
        _UserSeed(
            581651,
            "Анна Руденко",
            "admin@reforyou.example",
            "admin-pass",
            "admin",
            "Отдел продаж",
            "all",
            2,
        ),
        _broker(581652, "Игорь Ковальчук", "broker1@reforyou.example", "Отдел продаж", "own", 6),
        _broker(581653, "Марина Лысенко", "broker2@reforyou.example", "Отдел продаж", "own", 6),
        _broker(581654, "Олег Бондаренко", "broker3@reforyou.example", "Отдел продаж", "own", 5),
        _broker(581655, "Светлана Мельник", "broker4@reforyou.example", "Отдел продаж", "own", 5),
        _broker(581656, "Дмитрий Шевченко", "broker5@reforyou.example", "Отдел продаж", "own", 5),
        _broker(
            581657, "Владимир Ткаченко", "broker6@reforyou.example", "Vladimir Team", "group", 4
        ),
        _broker(581658, "Юлия Кравец", "broker7@reforyou.example", "Vladimir Team", "own", 4),
        _broker(581659, "Артём Савченко", "broker8@reforyou.example", "Vladimir Team", "own", 4),
        # Joined yesterday: responsible for nothing yet, so their lead list is 204.
        _broker(581660, "Никита Гончар", "broker9@reforyou.example", "Отдел продаж", "own", 0),
    ),
    pipelines=(
        (
            7_310_101,
            "Real Estate",
            (
                (61_000_001, "Новая заявка", "#99ccff"),
                (61_000_002, "Квалификация", "#ffff99"),
                (61_000_003, "Показ объекта", "#ffcc66"),
                (61_000_004, "Переговоры", "#ff8f92"),
                (61_000_005, "Договор", "#87f2c0"),
            ),
        ),
        (
            7_310_102,
            "Партнеры",
            (
                (61_000_011, "Первичный контакт", "#98cbff"),
                (61_000_012, "Встреча", "#fffd7f"),
                (61_000_013, "Соглашение", "#deff81"),
            ),
        ),
        (
            7_310_103,
            "Vladimir Team",
            (
                (61_000_021, "Входящие", "#c1e0ff"),
                (61_000_022, "В работе", "#ffdc7f"),
                (61_000_023, "Бронь", "#ffc8c8"),
                (61_000_024, "Сделка", "#ccc8f9"),
            ),
        ),
    ),
    lead_count=360,
    lang="ru",
)

_REFORYOU_DEV = _AccountSeed(
    account=Account(
        id=31920255,
        name="reforyou sandbox",
        subdomain="reforyoudev",
        base_domain="amocrm.ru",
        api_domain="api-b.amocrm.ru",
        country="RU",
        currency="RUB",
        currency_symbol="₽",
        created_at=1_700_000_000,
        is_technical_account=True,
    ),
    groups=("Отдел продаж",),
    users=(
        # The reforyou admin is also admin here: the consent page then asks which account.
        _UserSeed(
            581651,
            "Анна Руденко",
            "admin@reforyou.example",
            "admin-pass",
            "admin",
            "Отдел продаж",
            "all",
            1,
        ),
        _broker(590001, "Тестовый брокер", "tester@reforyou.example", "Отдел продаж", "own", 1),
    ),
    pipelines=(
        (
            7_410_101,
            "Воронка",
            (
                (62_000_001, "Первичный контакт", "#99ccff"),
                (62_000_002, "Переговоры", "#ffcc66"),
            ),
        ),
    ),
    lead_count=20,
    lang="ru",
)

_KOMMO = _AccountSeed(
    account=Account(
        id=32045871,
        name="ForYou Global",
        subdomain="foryouglobal",
        base_domain="kommo.com",
        api_domain="api-c.kommo.com",
        country="AE",
        currency="AED",
        currency_symbol="AED",
        created_at=1_680_000_000,
    ),
    groups=("Sales",),
    users=(
        _UserSeed(
            11_200_001,
            "Omar Haddad",
            "admin@foryouglobal.example",
            "kommo-admin-pass",
            "admin",
            "Sales",
            "all",
            1,
        ),
        _broker(11_200_002, "Lena Fischer", "agent1@foryouglobal.example", "Sales", "own", 3),
        _broker(11_200_003, "Ravi Menon", "agent2@foryouglobal.example", "Sales", "own", 3),
        _broker(11_200_004, "Sofia Costa", "agent3@foryouglobal.example", "Sales", "own", 3),
    ),
    pipelines=(
        (
            8_110_101,
            "Dubai Sales",
            (
                (71_000_001, "Incoming", "#99ccff"),
                (71_000_002, "Viewing", "#ffcc66"),
                (71_000_003, "Offer", "#ff8f92"),
            ),
        ),
    ),
    lead_count=60,
    lang="en",
)

ACCOUNT_SEEDS = (_REFORYOU, _REFORYOU_DEV, _KOMMO)

_RU_FIRST = (
    "Алексей",
    "Мария",
    "Сергей",
    "Елена",
    "Андрей",
    "Ольга",
    "Павел",
    "Татьяна",
    "Михаил",
    "Наталья",
    "Иван",
    "Ирина",
    "Роман",
    "Екатерина",
    "Виктор",
    "Анастасия",
)
_RU_LAST = (
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
)
_EN_FIRST = ("James", "Aisha", "Lucas", "Mei", "Noah", "Fatima", "Daniel", "Priya", "Ethan")
_EN_LAST = ("Smith", "Khan", "Garcia", "Chen", "Müller", "Rossi", "Silva", "Ahmed", "Brown")
_RU_OBJECTS = ("Квартира", "Дом", "Коммерция", "Участок")
_EN_OBJECTS = ("Apartment", "Villa", "Office", "Plot")
_RU_DISTRICTS = ("Центр", "Арбат", "Хамовники", "Пресня", "Сокольники", "Митино", "Бутово")
_EN_DISTRICTS = ("Marina", "Downtown", "JVC", "Palm Jumeirah", "Business Bay")
_RU_SOURCES = ("Сайт", "Авито", "ЦИАН", "Рекомендация", "Звонок")
_EN_SOURCES = ("Website", "Property Finder", "Bayut", "Referral", "Call")
_RU_TAGS: tuple[tuple[str, str | None], ...] = (
    ("VIP", "#ffdd00"),
    ("Ипотека", "#8cc9ff"),
    ("Вторичка", None),
    ("Новостройка", "#c1f0c1"),
    ("Срочно", "#ff8f92"),
    ("Инвестор", None),
)
_EN_TAGS: tuple[tuple[str, str | None], ...] = (
    ("VIP", "#ffdd00"),
    ("Mortgage", "#8cc9ff"),
    ("Off-plan", None),
    ("Investor", None),
)
_RU_NOTES = (
    "Клиент просил перезвонить после 18:00.",
    "Отправил подборку объектов на почту.",
    "Показ назначен на выходные.",
    "Нужна ипотека, одобрение в процессе.",
    "Рассматривает 2-3 комнатные варианты.",
    "Торгуется, готов на 5% ниже.",
)
_EN_NOTES = (
    "Asked to call back after 6 pm.",
    "Sent a shortlist by e-mail.",
    "Viewing booked for the weekend.",
    "Needs a mortgage pre-approval.",
)


# Extra brokers of reforyou (`--extra-brokers`) get ids from here on, after the seeded ones.
FIRST_EXTRA_BROKER_ID = 581_701
MAX_EXTRA_BROKERS = 200


def _with_extra_brokers(spec: _AccountSeed, count: int) -> _AccountSeed:
    """reforyou with `count` more brokers (`broker10@…`, `broker11@…`, own rights, a share of
    the leads each): the seeded users keep their ids, logins and passwords."""
    extra = tuple(
        _broker(
            FIRST_EXTRA_BROKER_ID + n,
            f"Брокер {10 + n}",
            f"broker{10 + n}@reforyou.example",
            "Отдел продаж",
            "own",
            4,
        )
        for n in range(count)
    )
    return replace(spec, users=spec.users + extra)


def build_seed_state(seed: int, extra_brokers: int = 0) -> State:
    """Build the whole seeded state for `seed` (reforyou with `extra_brokers` more brokers)."""
    state = State()
    state.next_ids = {
        "lead": 24_000_001,
        "contact": 48_000_001,
        "note": 96_000_001,
        "task": 12_000_001,
        "tag": 310_001,
        "field": 970_001,
        "enum": 1_950_001,
        "group": 410_001,
        "event": 1,
    }
    for account_seed in ACCOUNT_SEEDS:
        spec = (
            _with_extra_brokers(account_seed, extra_brokers)
            if account_seed is _REFORYOU
            else account_seed
        )
        rng = random.Random(f"{seed}:{spec.account.id}")  # noqa: S311 - fake data
        _seed_account(state, spec, rng)
    return state


def _seed_account(state: State, spec: _AccountSeed, rng: random.Random) -> None:
    account = Account(**{**spec.account.__dict__})
    account.amojo_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    account.uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    state.accounts[account.id] = account
    english = spec.lang == "en"

    group_ids: dict[str, int] = {}
    for name in spec.groups:
        group = Group(id=state.new_id("group"), account_id=account.id, name=name)
        state.groups[group.id] = group
        group_ids[name] = group.id

    for user_seed in spec.users:
        if user_seed.id not in state.users:
            state.users[user_seed.id] = User(
                id=user_seed.id,
                name=user_seed.name,
                login=user_seed.login,
                password=user_seed.password,
                lang=spec.lang,
                uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            )
        state.memberships.append(
            Membership(
                user_id=user_seed.id,
                account_id=account.id,
                role=user_seed.role,
                group_id=group_ids[user_seed.group],
                leads_view=user_seed.leads_view,
            )
        )

    for sort, (pipeline_id, name, stages) in enumerate(spec.pipelines):
        statuses = [
            _fixed_status(
                _unsorted_id(pipeline_id),
                "Incoming leads" if english else "Неразобранное",
                10,
                "#c1c1c1",
                status_type=1,
            )
        ]
        for index, (status_id, status_name, color) in enumerate(stages):
            statuses.append(
                Status(id=status_id, name=status_name, sort=20 + 10 * index, color=color, type=0)
            )
        statuses.append(
            _fixed_status(
                WON_STATUS_ID,
                "Closed - won" if english else "Успешно реализовано",
                10_000,
                "#CCFF66",
            )
        )
        statuses.append(
            _fixed_status(
                LOST_STATUS_ID,
                "Closed - lost" if english else "Закрыто и не реализовано",
                11_000,
                "#D5D8DB",
            )
        )
        state.pipelines[pipeline_id] = Pipeline(
            id=pipeline_id,
            account_id=account.id,
            name=name,
            sort=(sort + 1) * 10,
            is_main=sort == 0,
            statuses=statuses,
        )

    fields = _seed_fields(state, account.id, english)
    tag_ids = []
    for tag_name, tag_color in _EN_TAGS if english else _RU_TAGS:
        tag = Tag(
            id=state.new_id("tag"),
            account_id=account.id,
            entity_type="leads",
            name=tag_name,
            color=tag_color,
        )
        state.tags[tag.id] = tag
        tag_ids.append(tag.id)

    owners = [u for u in spec.users for _ in range(u.lead_share)]
    members = {m.user_id: m for m in state.members_of(account.id)}
    first_names, last_names = (_EN_FIRST, _EN_LAST) if english else (_RU_FIRST, _RU_LAST)
    pipelines = state.account_pipelines(account.id)
    for _ in range(spec.lead_count):
        owner = rng.choice(owners)
        member = members[owner.id]
        pipeline = rng.choice(pipelines)
        status = _pick_status(rng, pipeline)
        created_at = SEED_EPOCH - rng.randint(3_600, 400 * 86_400)
        updated_at = min(SEED_EPOCH, created_at + rng.randint(0, 60 * 86_400))
        first, last = rng.choice(first_names), rng.choice(last_names)
        contact = _seed_contact(state, rng, account, member, first, last, created_at, fields)
        object_type = rng.choice(_EN_OBJECTS if english else _RU_OBJECTS)
        district = rng.choice(_EN_DISTRICTS if english else _RU_DISTRICTS)
        lead = Lead(
            id=state.new_id("lead"),
            account_id=account.id,
            name=f"{object_type}, {district} — {last}"
            if not english
            else f"{object_type} in {district} — {last}",
            price=rng.randrange(35, 900) * 100_000
            if not english
            else rng.randrange(6, 120) * 50_000,
            responsible_user_id=owner.id,
            group_id=member.group_id,
            status_id=status.id,
            pipeline_id=pipeline.id,
            created_by=owner.id,
            updated_by=owner.id,
            created_at=created_at,
            updated_at=updated_at,
            closed_at=updated_at if status.id in (WON_STATUS_ID, LOST_STATUS_ID) else None,
            custom_fields_values=_lead_field_values(rng, fields, object_type, district, english),
            tag_ids=sorted(rng.sample(tag_ids, k=rng.choice((0, 0, 1, 1, 2)))),
            contact_ids=[contact.id],
            main_contact_id=contact.id,
        )
        state.leads[lead.id] = lead
        state.add_event(account.id, lead.id, "lead_added", owner.id, created_at)
        if status.type == 0 and status.id != pipeline.statuses[1].id:
            state.add_event(
                account.id,
                lead.id,
                "lead_status_changed",
                owner.id,
                updated_at,
                value_before=[
                    {"lead_status": {"id": pipeline.statuses[1].id, "pipeline_id": pipeline.id}}
                ],
                value_after=[{"lead_status": {"id": status.id, "pipeline_id": pipeline.id}}],
            )
        for _note in range(rng.choice((0, 1, 1, 2, 3))):
            at = rng.randint(created_at, updated_at)
            note = Note(
                id=state.new_id("note"),
                account_id=account.id,
                entity_type="leads",
                entity_id=lead.id,
                note_type="common",
                params={"text": rng.choice(_EN_NOTES if english else _RU_NOTES)},
                responsible_user_id=owner.id,
                group_id=member.group_id,
                created_by=owner.id,
                updated_by=owner.id,
                created_at=at,
                updated_at=at,
            )
            state.notes[note.id] = note
            state.add_event(
                account.id,
                lead.id,
                "common_note_added",
                owner.id,
                at,
                value_after=[{"note": {"id": note.id}}],
            )


def _fixed_status(status_id: int, name: str, sort: int, color: str, status_type: int = 0) -> Status:
    """A stage amoCRM puts in every pipeline (unsorted, won, lost): it cannot be edited."""
    return Status(
        id=status_id, name=name, sort=sort, color=color, type=status_type, is_editable=False
    )


def _unsorted_id(pipeline_id: int) -> int:
    return 50_000_000 + pipeline_id % 1_000_000


def _pick_status(rng: random.Random, pipeline: Pipeline) -> Status:
    roll = rng.random()
    if roll < 0.12:
        return next(s for s in pipeline.statuses if s.id == WON_STATUS_ID)
    if roll < 0.2:
        return next(s for s in pipeline.statuses if s.id == LOST_STATUS_ID)
    regular = [s for s in pipeline.statuses if s.id not in (WON_STATUS_ID, LOST_STATUS_ID)]
    return rng.choice(regular)


@dataclass(frozen=True)
class _Fields:
    phone: CustomField
    email: CustomField
    position: CustomField
    object_type: CustomField
    district: CustomField
    source: CustomField
    area: CustomField


def _field(
    state: State,
    account_id: int,
    entity: str,
    name: str,
    code: str | None,
    kind: str,
    sort: int,
    enums: tuple[str, ...] = (),
) -> CustomField:
    item = CustomField(
        id=state.new_id("field"),
        account_id=account_id,
        entity_type=entity,
        name=name,
        code=code,
        type=kind,
        sort=sort,
        enums=[
            {"id": state.new_id("enum"), "value": value, "sort": (i + 1) * 2}
            for i, value in enumerate(enums)
        ]
        or None,
    )
    state.custom_fields[item.id] = item
    return item


def _seed_fields(state: State, account_id: int, english: bool) -> _Fields:
    return _Fields(
        phone=_field(
            state,
            account_id,
            "contacts",
            "Phone" if english else "Телефон",
            "PHONE",
            "multitext",
            4,
            ("WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER"),
        ),
        email=_field(
            state,
            account_id,
            "contacts",
            "Email",
            "EMAIL",
            "multitext",
            6,
            ("WORK", "PRIV", "OTHER"),
        ),
        position=_field(
            state,
            account_id,
            "contacts",
            "Position" if english else "Должность",
            "POSITION",
            "text",
            2,
        ),
        object_type=_field(
            state,
            account_id,
            "leads",
            "Property type" if english else "Тип объекта",
            None,
            "select",
            10,
            _EN_OBJECTS if english else _RU_OBJECTS,
        ),
        district=_field(
            state, account_id, "leads", "District" if english else "Район", None, "text", 12
        ),
        source=_field(
            state,
            account_id,
            "leads",
            "Source" if english else "Источник",
            None,
            "select",
            14,
            _EN_SOURCES if english else _RU_SOURCES,
        ),
        area=_field(
            state,
            account_id,
            "leads",
            "Area, m²" if english else "Площадь, м²",
            None,
            "numeric",
            16,
        ),
    )


def field_value(item: CustomField, value: object, enum_code: str | None = None) -> JSONDict:
    """One `custom_fields_values` entry as amoCRM writes it."""
    entry: JSONDict = {"value": value}
    if item.enums:
        if enum_code is not None:
            match = next((e for e in item.enums if e["value"] == enum_code), None)
            if match:
                entry["enum_id"] = match["id"]
                entry["enum_code"] = enum_code
        else:
            match = next((e for e in item.enums if e["value"] == value), None)
            if match:
                entry["enum_id"] = match["id"]
    return {
        "field_id": item.id,
        "field_name": item.name,
        "field_code": item.code,
        "field_type": item.type,
        "values": [entry],
    }


def _lead_field_values(
    rng: random.Random, fields: _Fields, object_type: str, district: str, english: bool
) -> list[JSONDict]:
    values = [field_value(fields.object_type, object_type), field_value(fields.district, district)]
    if rng.random() < 0.7:
        values.append(
            field_value(fields.source, rng.choice(_EN_SOURCES if english else _RU_SOURCES))
        )
    values.append(field_value(fields.area, str(rng.randrange(28, 400))))
    return values


def _seed_contact(
    state: State,
    rng: random.Random,
    account: Account,
    member: Membership,
    first: str,
    last: str,
    created_at: int,
    fields: _Fields,
) -> Contact:
    if account.is_kommo:
        phone = f"+9715{rng.randrange(10_000_000, 99_999_999)}"
    else:
        phone = f"+79{rng.randrange(100_000_000, 999_999_999)}"
    email = f"{_latin(first)}.{_latin(last)}{rng.randrange(1, 99)}@example.com"
    values = [field_value(fields.phone, phone, "MOB"), field_value(fields.email, email, "PRIV")]
    if rng.random() < 0.2:
        extra = field_value(fields.phone, phone[:-4] + f"{rng.randrange(1000, 9999)}", "WORK")
        values[0]["values"].extend(extra["values"])
    contact = Contact(
        id=state.new_id("contact"),
        account_id=account.id,
        name=f"{first} {last}",
        first_name=first,
        last_name=last,
        responsible_user_id=member.user_id,
        group_id=member.group_id,
        created_by=member.user_id,
        updated_by=member.user_id,
        created_at=created_at,
        updated_at=created_at,
        custom_fields_values=values,
    )
    state.contacts[contact.id] = contact
    return contact


_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "sch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def _latin(text: str) -> str:
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower() if ch.isalnum())


def seeded_logins(state: State) -> list[dict[str, object]]:
    """One row per (user, account) membership, in a stable order."""
    rows: list[dict[str, object]] = []
    for member in state.memberships:
        user = state.users[member.user_id]
        account = state.accounts[member.account_id]
        rows.append(
            {
                "id": user.id,
                "name": user.name,
                "login": user.login,
                "password": user.password,
                "role": member.role,
                "account_id": account.id,
                "account_subdomain": account.subdomain,
                "base_domain": account.base_domain,
            }
        )
    return rows
