"""Named CSV column mappings: how one bank's CSV export reads, kept as data."""

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import UTCDateTime


class StatementMapping(Base):
    """Every field of ``parsing.csv_mapped.CsvMapping``, replaced whole under ``If-Match``."""

    __tablename__ = "statement_mappings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str | None] = mapped_column(String(200))
    # field (csv_mapped.FIELDS) -> the header of its column
    columns: Mapped[dict[str, str]] = mapped_column(JSON)
    delimiter: Mapped[str] = mapped_column(String(1))
    decimal_separator: Mapped[str] = mapped_column(String(1))
    thousands_separator: Mapped[str] = mapped_column(String(1))
    date_format: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str | None] = mapped_column(String(3))
    encoding: Mapped[str] = mapped_column(String(40))
    # With a credit_debit column: the values that mean a credit.
    credit_values: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
