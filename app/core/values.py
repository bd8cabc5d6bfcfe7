"""Frozen dataclasses made as quickly as plain ones, for the values a batch makes by the thousand.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (the class
refuses ``self.field = ...``): about three times the cost of a plain one, a tenth of a 1,000-trade
batch's Python (journal lines, trade terms and economics, entries, audit changes). ``quick_init``
gives such a class an ``__init__`` of the same signature that stores the fields in the instance's
``__dict__`` at once; everything else is the dataclass's own (equality, hash, repr, ``replace``),
and the instance is as frozen as before: assigning a field afterwards is refused.
"""

from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

_T = TypeVar("_T")


def quick_init(cls: type[_T]) -> type[_T]:
    """``cls``, a frozen dataclass with instance dictionaries (no ``slots``), with the quick
    ``__init__``. Only what such values use is taken: positional-or-keyword fields, plain
    defaults; anything else (a default factory, ``init=False``, keyword-only fields,
    ``__post_init__``) is refused here, when the class is defined."""
    params = getattr(cls, "__dataclass_params__", None)
    if not is_dataclass(cls) or params is None or not params.frozen:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass")
    if "__slots__" in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has slots or a __post_init__")
    arguments: list[str] = []
    defaults: dict[str, Any] = {}
    for field in fields(cls):
        if not field.init or field.kw_only or field.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{field.name} is not a plain field")
        if field.default is MISSING:
            arguments.append(field.name)
        else:
            defaults[f"_default_{field.name}"] = field.default
            arguments.append(f"{field.name}=_default_{field.name}")
    stored = "".join(f"    values[{field.name!r}] = {field.name}\n" for field in fields(cls))
    source = f"def __init__(self, {', '.join(arguments)}):\n    values = self.__dict__\n{stored}"
    namespace: dict[str, Any] = {}
    exec(source, defaults, namespace)  # noqa: S102 (our own source, as dataclasses makes its __init__)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
