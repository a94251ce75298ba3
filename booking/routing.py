"""Which database a query goes to: the primary, or the read replica for reads that opted in.

With ``DATABASE_REPLICA_URL`` set, settings add the ``"replica"`` alias (a PostgreSQL streaming
standby of the primary) and install :class:`ReplicaRouter`. Without it the router answers
nothing and every query goes to ``"default"`` as before.

A read goes to the replica only when all of these hold:

- the code asked for it with :func:`reads_from_replica` (a context manager and decorator):
  availability, the desk calendar and the owner's report, reads that tolerate a little lag;
- the request is not pinned to the primary (:func:`pinned_to_primary`: the middleware pins
  every POST and, for ``DATABASE_REPLICA_STICKY_SECONDS`` after one, the same browser's
  requests, so a patient who just booked sees the booking: read-your-writes);
- no transaction is open on the primary (every booking service is one ``transaction.atomic``
  and re-reads what it decides on there; ``select_for_update`` is a write query anyway).

Every write goes to the primary, whichever database an instance was read from. Migrations never
run on the replica (it is read-only and receives the schema by replication).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

__all__ = [
    "REPLICA",
    "ReplicaRouter",
    "pinned_to_primary",
    "read_alias",
    "reads_from_replica",
    "replica_configured",
]

REPLICA = "replica"

# Context variables, not thread locals: each request (thread or task) sees only its own.
_wanted: ContextVar[bool] = ContextVar("skinclinic_replica_wanted", default=False)
_pinned: ContextVar[bool] = ContextVar("skinclinic_pinned_to_primary", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def reads_from_replica() -> Iterator[None]:
    """Reads inside may come from the replica (the module docstring says when they do). Also a
    decorator: ``@reads_from_replica()``."""
    token = _wanted.set(True)
    try:
        yield
    finally:
        _wanted.reset(token)


@contextmanager
def pinned_to_primary(pinned: bool = True) -> Iterator[None]:
    """Every read inside goes to the primary (when `pinned`), even under reads_from_replica."""
    token = _pinned.set(pinned or _pinned.get())
    try:
        yield
    finally:
        _pinned.reset(token)


def read_alias() -> str:
    """The database a read made here and now would use."""
    if (
        _wanted.get()
        and not _pinned.get()
        and replica_configured()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Django's database router for the replica; inert while no replica is configured."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        # Explicitly "default" otherwise: Django would follow an instance read from the
        # replica back to the replica for its related rows.
        return read_alias() if replica_configured() else None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS if replica_configured() else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        same_data = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in same_data and obj2._state.db in same_data:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None
