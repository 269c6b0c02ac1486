"""Write errors the stores raise, below :class:`~truceline.model.StoreError`.

Both stores turn a failed write into one message naming the store, the batch, the cause and
whether the batch is in (it is all or nothing either way), so neither a ``sqlite3`` nor a
``psycopg`` traceback reaches a user.
"""

from __future__ import annotations

from truceline.model import StoreError


class StoreFull(StoreError):
    """The disk (or the database's size limit) is full: nothing of the batch is stored; free
    space and send it again."""


__all__ = ["StoreFull"]
