"""The sync engine: push (apply a device's mutations) and pull (the change feed), on a session it
is given. Versions, revisions and the change feed are written by the hooks of the store
(webapp/sync_store/tracking.py); the engine only changes records and says who is changing them.

Serialization of writers: the caller's transaction must be a writer on SQLite (BEGIN IMMEDIATE,
so two pushes queue instead of failing with "database is locked"). On PostgreSQL a push first
takes its device's advisory lock (a retry waits for the push it repeats, then finds its mutations
applied), then locks the rows of every record it touches (FOR NO KEY UPDATE, one entity after
another in name order, rows in id order, so two pushes cannot deadlock), and only then reads what
was applied and what is stored. Pushes to different records run side by side; the change feed's
own lock is taken by the store at commit, for a moment. A deadlock with some other writer or a
racing duplicate create is an error the caller retries (the whole push, from the start).
"""

from sync.conflicts import Conflicts
from sync.history import History
from sync.protocol import Mutation, Policy, Rejection, Store
from sync.pull import Pull
from sync.push import Push

__all__ = ["Mutation", "Rejection", "Store", "SyncEngine"]  # what callers take from here; the rest is in sync/protocol.py


class SyncEngine(Push, History, Conflicts, Pull):
    """Push (sync/push.py), the history a merge reads (sync/history.py), conflicts
    (sync/conflicts.py) and pull (sync/pull.py) over one session, with the application's policy."""

    def __init__(self, session, entities: dict, store: Store, policy: Policy):
        self.session = session
        self.entities = entities
        self.store = store
        self.policy = policy
        self.is_pg = session.get_bind().dialect.name == "postgresql"
        self._records: dict = {}
        self._values: dict = {}
        self._history: dict = {}
        self._batch_sets: dict = {}
        self._prevalidated: dict = {}
