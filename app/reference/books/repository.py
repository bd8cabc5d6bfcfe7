"""Every query and lock of books."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest, fetch_page
from app.reference.books.models import Book


async def get(session: AsyncSession, code: str, *, lock: bool = False) -> Book | None:
    return await session.get(Book, code, with_for_update=lock or None)


async def page(session: AsyncSession, page: PageRequest) -> tuple[Sequence[Book], str | None]:
    return await fetch_page(session, select(Book), Book.code, page)


async def existing_codes(session: AsyncSession, codes: list[str]) -> set[str]:
    return set((await session.scalars(select(Book.code).where(Book.code.in_(codes)))).all())
