"""What the course's catalogues (mistakes, shortcuts) share: one module per notebook holds a
list of entries, gathered in course order, looked up by id."""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["collect", "lookup"]


def collect(package: str, path, attribute: str) -> list:
    """Every entry of the list ``attribute`` of each module of ``package``, in module order.

    Raises
    ------
    ValueError
        If two entries have the same ``id``.
    """
    found = []
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        found.extend(getattr(importlib.import_module(f"{package}.{info.name}"), attribute, []))
    ids = [e.id for e in found]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate {attribute.lower()} ids: {sorted(dupes)}")
    return found


def lookup(entries: list, entry_id: str, kind: str):
    """The entry with this id, or a ``KeyError`` that lists the known ones."""
    for e in entries:
        if e.id == entry_id:
            return e
    raise KeyError(f"no {kind} {entry_id!r}; known: {', '.join(e.id for e in entries)}")
