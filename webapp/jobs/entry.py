"""For `huey_consumer webapp.jobs.entry.huey -w 2 -k thread`: the app, created once per worker process."""

from webapp import create_app
from webapp.jobs import get_huey

app = create_app()
huey = get_huey(app)
