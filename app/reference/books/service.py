"""Books: create, amend, read (audited); which book codes exist, for other domains."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.pagination import PageRequest
from app.reference import records
from app.reference.books import repository
from app.reference.books.models import Book
from app.reference.books.schemas import BookIn, BookPatch

ENTITY = "book"


async def create_book(session: AsyncSession, *, data: BookIn, actor: Actor, now: datetime) -> Book:
    book = Book(**records.storage(data))
    return await records.create(session, book, entity_type=ENTITY, actor=actor, now=now)


async def update_book(
    session: AsyncSession, *, code: str, patch: BookPatch, version: int, actor: Actor, now: datetime
) -> Book:
    book = records.found(await repository.get(session, code, lock=True), ENTITY, code)
    return await records.update(
        session,
        book,
        records.changes(Book, patch),
        entity_type=ENTITY,
        expected_version=version,
        actor=actor,
        now=now,
    )


async def get_book(session: AsyncSession, *, code: str, as_of: datetime | None = None) -> Book:
    """The book now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await records.as_of(session, Book, ENTITY, code, as_of)
    return records.found(await repository.get(session, code), ENTITY, code)


async def list_books(
    session: AsyncSession, *, page: PageRequest
) -> tuple[Sequence[Book], str | None]:
    return await repository.page(session, page)


async def known_books(session: AsyncSession, *, codes: Iterable[str]) -> set[str]:
    """Those of ``codes`` that are books."""
    return await repository.existing_codes(session, list(set(codes)))
