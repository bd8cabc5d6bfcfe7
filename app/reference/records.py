"""What every reference aggregate's service shares: audited creation, versioned amendment and
deletion, payloads in storage form, and the errors for unknown keys."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_change, row_as_of
from app.core.auth import Actor
from app.core.db import Base
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.snapshots import jsonable, row_snapshot
from app.core.versioning import check_version
from app.reference.fields import TermsError
from app.reference.versioned import Versioned

M = TypeVar("M", bound=Base)
T = TypeVar("T")
V = TypeVar("V", bound=Versioned)


def key_of(obj: Base) -> str:
    identity = type(obj).__mapper__.primary_key_from_instance(obj)
    return "/".join(jsonable(part) for part in identity)


_LABELS = {"ssi": "SSI"}


def _label(entity_type: str) -> str:
    return _LABELS.get(entity_type, entity_type.replace("_", " "))


def found(obj: T | None, entity_type: str, key: Any) -> T:
    """``obj``, or NotFound naming the entity and its key."""
    if obj is None:
        shown = "/".join(str(part) for part in key) if isinstance(key, tuple) else key
        raise NotFound(f"No {_label(entity_type)} '{shown}'.")
    return obj


async def as_of(
    session: AsyncSession, model: type[M], entity_type: str, key: str, moment: datetime
) -> M:
    """The row of ``model`` at ``key`` as it stood at ``moment``, from its audit records
    (NotFound when it did not exist then)."""
    return await row_as_of(
        session,
        model,
        entity_type=entity_type,
        entity_id=key,
        as_of=moment,
        title=_label(entity_type),
    )


def known(exists: bool, field_name: str, key: Any) -> None:
    """A payload names another reference row: it must exist (else 422 on that field)."""
    if not exists:
        raise ValidationFailed(
            f"{field_name} '{key}' is not known.",
            errors=[FieldProblem(field_name, f"'{key}' is not known")],
        )


# Stored as JSON columns: their dates and decimals become strings.
_JSON_FIELDS = ("settlement_cycle_days", "partial_cash_thresholds")


def storage(data: BaseModel, *, only_sent: bool = False) -> dict[str, Any]:
    """The model's fields in storage form: cycles become JSON (``{"from": "...", "days": n}``),
    and so do cash thresholds (``{"EUR": "10000"}``)."""
    values: dict[str, Any] = data.model_dump(by_alias=True, exclude_unset=only_sent)
    for name in _JSON_FIELDS:
        if values.get(name) is not None:
            values[name] = jsonable(values[name])
    return values


def changes(model: type[Base], patch: BaseModel) -> dict[str, Any]:
    """What a PATCH sent; ``null`` only where the column may be empty."""
    sent = storage(patch, only_sent=True)
    columns = model.__table__.columns
    refused = [name for name, value in sent.items() if value is None and not columns[name].nullable]
    if refused:
        raise ValidationFailed(
            "These fields cannot be emptied.",
            errors=[FieldProblem(name, "may not be null") for name in refused],
        )
    return sent


async def create(
    session: AsyncSession,
    obj: M,
    *,
    entity_type: str,
    actor: Actor,
    now: datetime,
) -> M:
    """Add ``obj`` (Conflict when a row with its key exists) and audit it as created."""
    model: Any = type(obj)
    if await session.get(model, tuple(model.__mapper__.primary_key_from_instance(obj))):
        raise Conflict(f"The {_label(entity_type)} '{key_of(obj)}' already exists.")
    if isinstance(obj, Versioned):
        obj.version, obj.created_at, obj.updated_at = 1, now, now
    else:
        setattr(obj, "created_at", now)  # noqa: B010  (prices, rates, closed days: no version)
    session.add(obj)
    await session.flush()  # column defaults are applied: the after image is the stored row
    await record_change(
        session,
        actor=actor,
        entity_type=entity_type,
        entity_id=key_of(obj),
        action="created",
        before=None,
        after=row_snapshot(obj),
        now=now,
    )
    return obj


async def update(
    session: AsyncSession,
    obj: V,
    values: dict[str, Any],
    *,
    entity_type: str,
    expected_version: int,
    actor: Actor,
    now: datetime,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> V:
    """Amend a locked row at ``expected_version``: a new version and an audit record, unless
    nothing changed."""
    check_version(
        current=obj.version, expected=expected_version, what=f"{entity_type} '{key_of(obj)}'"
    )
    before = row_snapshot(obj)
    if check is not None:
        try:
            check({**{k: getattr(obj, k) for k in before}, **values})
        except TermsError as exc:
            raise ValidationFailed(
                exc.message, errors=[FieldProblem(name, exc.message) for name in exc.fields]
            ) from None
    for name, value in values.items():
        setattr(obj, name, value)
    if row_snapshot(obj) == before:
        return obj
    obj.version += 1
    obj.updated_at = now
    await record_change(
        session,
        actor=actor,
        entity_type=entity_type,
        entity_id=key_of(obj),
        action="updated",
        before=before,
        after=row_snapshot(obj),
        now=now,
    )
    return obj


async def delete(
    session: AsyncSession,
    obj: Versioned,
    *,
    entity_type: str,
    expected_version: int,
    actor: Actor,
    now: datetime,
) -> None:
    """Remove a locked row at ``expected_version``; the audit record keeps its last state."""
    entity_id = key_of(obj)
    check_version(
        current=obj.version, expected=expected_version, what=f"{entity_type} '{entity_id}'"
    )
    before = row_snapshot(obj)
    await session.delete(obj)
    await record_change(
        session,
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        action="deleted",
        before=before,
        after=None,
        now=now,
    )
