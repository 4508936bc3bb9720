from tests.sync.conftest import device  # noqa: F401  (the phone's device fixture, for the push tests)
