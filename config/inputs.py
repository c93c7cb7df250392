"""What the product accepts from outside, in one place: the range of dates, text without
NUL characters and within its length, ISO 8601 times, canonical time-zone names.

Services call the ``check_*`` functions (so a limit holds whichever way a value arrives);
the API's schemas use the annotated types below, so a bad value is a 400 naming its field
before any work starts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, get_args

from django.utils.translation import gettext as _
from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.errors import DomainError

# Dates and instants outside this range are refused: far enough for any booking, report or
# birthday, and far from the ends of Python's calendar (year 1 and 9999), where adding a
# day or moving to another zone overflows.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2999, 12, 31)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
EARLIEST = dt.datetime.combine(EARLIEST_DAY, dt.time(), tzinfo=dt.UTC)
LATEST = dt.datetime.combine(LATEST_DAY, dt.time(), tzinfo=dt.UTC)

# Lengths of free text (characters).
SHORT_TEXT = 200  # a title, a reason, a headline
LONG_TEXT = 5000  # a bio, a description, notes
# The largest offset a list accepts (beyond it a page is empty anyway, and a database
# integer overflows far later).
MAX_OFFSET = 1_000_000


def out_of_range_message() -> str:
    return _("Use a date between %(first)s and %(last)s.") % {
        "first": EARLIEST_DAY.isoformat(),
        "last": LATEST_DAY.isoformat(),
    }


def in_range_day(value: dt.date) -> bool:
    return EARLIEST_DAY <= value <= LATEST_DAY


def in_range_instant(value: dt.datetime) -> bool:
    return EARLIEST <= value <= LATEST


def check_day(value: dt.date, *, field: str = "") -> dt.date:
    if not in_range_day(value):
        raise DomainError(out_of_range_message(), code="invalid", field=field)
    return value


def check_instant(value: dt.datetime, *, field: str = "") -> dt.datetime:
    if not in_range_instant(value):
        raise DomainError(out_of_range_message(), code="invalid", field=field)
    return value


def text_problem(value: str, limit: int) -> str | None:
    """Why ``value`` can't be stored as free text of at most ``limit`` characters, or None."""
    if "\x00" in value:
        return _("Text can't contain NUL characters.")
    if len(value) > limit:
        return _("Use at most %(limit)d characters (this has %(length)d).") % {"limit": limit, "length": len(value)}
    return None


def check_text(value: str, limit: int, *, field: str = "") -> str:
    problem = text_problem(value, limit)
    if problem:
        raise DomainError(problem, code="invalid", field=field)
    return value


def no_negative_zero(value: Decimal) -> Decimal:
    """``-0.00`` is stored as ``0.00``."""
    return value.copy_abs() if value.is_zero() else value


# --- time zones --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_tables() -> tuple[frozenset[str], dict[str, str]]:
    """The canonical zone names (one per place, from the tz database's zone.tab, and UTC)
    and every link name's target."""
    folder = resources.files("tzdata").joinpath("zoneinfo")
    canonical = {"UTC"}
    for line in folder.joinpath("zone.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            canonical.add(line.split("\t")[2])
    links = {}
    for line in folder.joinpath("tzdata.zi").read_text(encoding="utf-8").splitlines():
        if line.startswith("L "):
            _, target, name = line.split()
            links[name] = target
    return frozenset(canonical), links


def canonical_zones() -> frozenset[str]:
    return _zone_tables()[0]


def canonical_zone(name: str) -> str | None:
    """The canonical IANA name for ``name`` (itself, or what an old alias such as
    Asia/Calcutta or US/Eastern stands for); None for anything else (``localtime``,
    ``Factory``, ``Etc/GMT+5``, a typo)."""
    canonical, links = _zone_tables()
    seen = 0
    while name not in canonical:
        if name in ("Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"):
            return "UTC"
        name = links.get(name, "")
        seen += 1
        if not name or seen > 5:
            return None
    return name


# --- types for the API's schemas -------------------------------------------------------


def _iso_string(value: Any) -> Any:
    if not isinstance(value, str) and not isinstance(value, dt.date):
        raise ValueError(_("Use ISO 8601, e.g. 2026-12-02T10:00:00+01:00 (a number is not a time)."))
    return value


def _iso_day(value: Any) -> Any:
    """A day is written YYYY-MM-DD (the schema's ``format: date``); the lax reading would
    take ``0`` for 1 January 1970."""
    value = _iso_string(value)
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError(_("Use a day as YYYY-MM-DD, e.g. 2026-12-02."))
    return value


def _day_in_range(value: dt.date) -> dt.date:
    if not in_range_day(value):
        raise ValueError(out_of_range_message())
    return value


def _instant_in_range(value: dt.datetime) -> dt.datetime:
    try:
        ok = in_range_instant(value)
    except OverflowError:
        ok = False
    if not ok:
        raise ValueError(out_of_range_message())
    return value


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError(_("Text can't contain NUL characters."))
    return value


def _local_time(value: Any) -> Any:
    if isinstance(value, str) and ("+" in value or "-" in value or value.upper().endswith("Z")):
        raise ValueError(_("Give a local time of day such as 09:30, without a UTC offset."))
    if isinstance(value, dt.time) and value.tzinfo is not None:
        raise ValueError(_("Give a local time of day such as 09:30, without a UTC offset."))
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_string), AfterValidator(_instant_in_range)]
Day = Annotated[dt.date, BeforeValidator(_iso_day), AfterValidator(_day_in_range)]
Text = Annotated[str, AfterValidator(_clean_text)]
LocalTime = Annotated[dt.time, BeforeValidator(_local_time)]


class _SaysSomething:
    """In the schema: at least one character that is not white space."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core_schema)
        schema.setdefault("minLength", 1)
        schema["pattern"] = r"\S"
        return schema


# Text that must say something (a reason to decline, a question, a title): the schema says
# "not empty, not only spaces"; the service refuses it, with its own code (``reason_required``…).
NotBlank = Annotated[str, _SaysSomething()]


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def schema_requires(*names: str) -> Any:
    """For a model's ``json_schema_extra``: ``names`` are required in the schema (without a
    default) though the model lets them out, so that the service refuses a missing one with
    its own code."""

    def extra(schema: dict[str, Any]) -> None:
        schema["required"] = sorted({*schema.get("required", []), *names})
        for name in names:
            schema.get("properties", {}).get(name, {}).pop("default", None)

    return extra


def optional(**constraints: Any) -> Any:
    """A field a change may leave out but never set to null (``name: int = optional(ge=0)``):
    ``None`` stands for "not sent" and null is refused; the schema shows neither null nor a
    default."""
    return Field(None, json_schema_extra=_without_default, **constraints)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _without_nul(item)
    return value


def _admits(annotation: Any, kinds: Any) -> bool:
    """Whether ``annotation`` (perhaps ``X | None``, ``list[X]``, ``Annotated[X, …]``) takes
    values of ``kinds`` (a type or a union of types)."""
    if isinstance(annotation, type) and (annotation is kinds or annotation in get_args(kinds)):
        return True
    return any(_admits(arg, kinds) for arg in get_args(annotation))


class Input(Schema):
    """The base of every schema the API reads: no string anywhere in it holds a NUL
    character (PostgreSQL can't store one), so it is a 400 naming the field; and true or
    false is no number and a number no truth value (the lax reading would take ``false``
    for 0 and 0 for false); and it is read from an
    object only (django-ninja would read the attributes of anything, ``"ABC".title()`` too)."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value: Any) -> Any:
        read_from = value._obj if isinstance(value, DjangoGetter) else value
        if not isinstance(read_from, Mapping | Schema):
            raise ValueError(_("Send a JSON object with the fields of this request."))
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_other_types(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None:
            return value
        values = value if isinstance(value, list) else [value]
        if any(isinstance(item, bool) for item in values) and not _admits(field.annotation, bool):
            raise ValueError(_("true or false is not a value for this field."))
        numbers = [item for item in values if isinstance(item, int | float) and not isinstance(item, bool)]
        if numbers and _admits(field.annotation, bool) and not _admits(field.annotation, int | float | Decimal):
            raise ValueError(_("Give true or false."))
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _without_nul(value)


def clean_text(value: str, limit: int, *, field: str = "") -> str:
    """``value`` stripped, refused (a DomainError naming ``field``) when it holds a NUL
    character or is longer than ``limit``: the services' one check of free text."""
    return check_text(value.strip(), limit, field=field)
