"""One name -> thing registry per extension point (sources, outputs, dynamics).

Each registry knows its entries' one-line help, so `--help` text and the error for an
unknown name come from the same table the code looks names up in.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from .errors import BadInputError

__all__ = ["Registry"]

T = TypeVar("T")
F = TypeVar("F")


class Registry(Generic[T]):
    """Named entries of one kind, in registration order, each with one line of help."""

    def __init__(self, what: str, error: type[BadInputError]) -> None:
        self.what = what  # "output", "source", "dynamics": used in messages
        self.error = error
        self._entries: dict[str, tuple[T, str]] = {}

    def add(self, name: str, entry: T, help: str = "") -> None:
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = (entry, help)

    def register(self, name: str, help: str = "") -> Callable[[F], F]:
        """Decorator form of `add` (for classes and factory functions)."""

        def deco(entry: F) -> F:
            self.add(name, entry, help)  # type: ignore[arg-type]
            return entry

        return deco

    def get(self, name: str, *, spec: str | None = None) -> T:
        """The entry for `name`; an unknown one is a bad-input error listing the choices."""
        found = self._entries.get(name)
        if found is not None:
            return found[0]
        close = difflib.get_close_matches(name, list(self._entries), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        where = f" in {spec!r}" if spec is not None and spec != name else ""
        raise self.error(
            f"unknown {self.what} {name!r}{where}{hint}; expected one of: {', '.join(self)}"
        )

    def help(self, name: str) -> str:
        return self._entries[name][1]

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        for name, (entry, _) in self._entries.items():
            yield name, entry

    def help_text(self) -> str:
        """``name: help; name: help; ...`` for an option's `--help`."""
        return "; ".join(f"{n}: {h}" if h else n for n, (_, h) in self._entries.items())

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)
