"""Property tests (Hypothesis) of every HTML form: the forms are found by visiting the pages a
manager and an administrator see (each GET page of the app without parameters, and the detail pages
of the fixture's records), then every text field of each is filled with arbitrary Unicode —
control characters, lone surrogates, NUL, RTL marks, 10,000-character strings. No answer may be a
5xx (issue #21)."""

from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sync.test_push_properties import TEXT
from webapp.extensions import db

TEXT_INPUTS = {"text", "search", "textarea", "email", "tel", "url", "date", "number", "datetime-local", "time", ""}
SKIP_ACTIONS = ("/logout", "/login", "/locale")


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action"), "text": [], "fixed": []}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "textarea" or (tag == "input" and (a.get("type") or "").lower() in TEXT_INPUTS):
            self._form["text"].append(a["name"])
        elif tag == "input" and (a.get("type") or "").lower() not in ("submit", "button", "file"):
            if (a.get("type") or "").lower() not in ("checkbox", "radio") or "checked" in a:
                self._form["fixed"].append((a["name"], a.get("value") or "on"))
        elif tag == "select":
            self._select = a["name"]
        if tag == "option" and self._select and a.get("value"):
            self._form["fixed"].append((self._select, a["value"]))
            self._select = None

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _pages(app, world):
    urls = {rule.rule for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(("/api/", "/static"))
            and not rule.rule.endswith((".xlsx", ".pdf", ".js", ".json", ".webmanifest")) and rule.rule != "/logout"}
    f, v = world["findings"][0], world["visits"][0]
    return sorted(urls | {f"/findings/{f.id}", f"/visits/{v.id}"})


def _forms(client, auth, app, world, who):
    auth.login(who)
    forms = {}
    for url in _pages(app, world):
        r = client.get(url)
        if r.status_code != 200 or "text/html" not in r.content_type:
            continue
        parser = _Forms()
        parser.feed(r.get_data(as_text=True))
        for form in parser.forms:
            action = form["action"] or url
            if form["text"] and not action.startswith(SKIP_ACTIONS):
                forms.setdefault(action, form)
    return forms


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_arbitrary_text_in_every_form_is_never_a_server_error(client, auth, app, world, who):
    forms = _forms(client, auth, app, world, who)
    assert len(forms) >= 3, forms

    @given(data=st.data())
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    def run(data):
        for action, form in sorted(forms.items()):
            values = dict(form["fixed"])
            for name in form["text"]:
                values[name] = data.draw(TEXT, label=f"{action} {name}")
            db.session.commit()
            # sent as raw bytes: a lone surrogate becomes the invalid UTF-8 an attacker can send
            body = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in values.items()})
            r = client.post(action, data=body, content_type="application/x-www-form-urlencoded")
            assert r.status_code < 500, (action, values, r.get_data(as_text=True)[:300])

    app.config["WTF_CSRF_ENABLED"] = False  # the fuzz is about the text, not the token
    run()


def test_the_crawl_finds_the_forms_that_take_text(client, auth, app, world):
    forms = _forms(client, auth, app, world, "admin")
    assert {"/checklists/new", "/findings/assign", "/plans/new", "/results/points/rules/new", "/results/policy/new",
            "/results/training/new"} <= set(forms)
    assert any(a.endswith("/comments") for a in forms)
