"""The app as a test's own server process serves it (tests/sync/servers.py): on the test's clock.

Tests run with "today" pinned (tests/conftest.py); data they make — a bearer token's expiry, a
deadline — is dated on that clock. A server process on the real clock would judge it by the real
date (a token issued "on 2026-11-20" for 14 days expires for real on 2026-12-04). So the server
starts its clock at the moment the test started it, given in TEST_CLOCK, and lets it tick."""

import os
from datetime import datetime

import time_machine

from webapp import create_app

_clock = os.environ.get("TEST_CLOCK")
if _clock:
    time_machine.travel(datetime.fromisoformat(_clock), tick=True).start()

app = create_app()
