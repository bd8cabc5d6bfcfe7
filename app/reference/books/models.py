"""Books: the trading books that own positions."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.reference.versioned import Versioned


class Book(Versioned):
    __tablename__ = "books"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
