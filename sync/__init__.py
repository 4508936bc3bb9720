"""The sync engine of protocol v1 (shared docs/sync-protocol.md): merge rules as pure functions
(merge.py) and an engine that applies pushes and answers pulls on a SQLAlchemy session it is
given (engine.py). No Flask here: the web layer passes in the entity registry, the bookkeeping
models and a policy (permissions, validation, derived fields)."""
