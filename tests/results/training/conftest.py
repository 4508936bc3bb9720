from tests.review_helpers import _release_test_transaction  # noqa: F401
