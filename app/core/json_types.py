"""Whole numbers in a JSON request body as JSON Schema's `integer` means them.

Pydantic's lax mode reads ``false`` and ``"3"`` as integers, its strict mode refuses ``3.0``,
which JSON Schema counts as an integer: this type takes exactly what `integer` admits.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator


def _whole(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_whole)]
