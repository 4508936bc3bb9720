"""Objects made by hand-written migrations that the models do not declare (full-text search):
Alembic's autogenerate and the models-vs-database test must not see them as differences."""


def include_object(obj, name, type_, reflected, compare_to):
    from webapp.findings.search import HAND_MADE_INDEXES, HAND_MADE_TABLES

    if type_ == "table" and name and any(name == t or name.startswith(t + "_") for t in HAND_MADE_TABLES):
        return False
    if type_ == "index" and name in HAND_MADE_INDEXES:
        return False
    return True
