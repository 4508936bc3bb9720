"""The simulated people of bench/load.py (run by locust in its own process; not imported by the app).

- Supervisors (3 of 5): a phone that pulls its scope from the start, then keeps pulling and pushes
  findings it records and edits (bearer token, the sync API).
- Desk users (2 of 5): a manager who signs in with the form and browses the findings list (plain,
  filtered, searched), a finding, the decision dashboard, reports, plans and rectification.

Hosts and accounts come from LOAD_PLAN (a JSON file written by bench/load.py): every request goes to
one of the app servers chosen at random, as a load balancer would."""

import itertools
import json
import os
import random
import re
import uuid
from datetime import UTC, datetime

from locust import HttpUser, between, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115 (read once at import)
HOSTS = PLAN["hosts"]
_supervisors = itertools.cycle(PLAN["supervisors"])
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FINDING_LINK = re.compile(r'href="/findings/([0-9a-f-]{36})"')


def url(path: str) -> str:
    return random.choice(HOSTS) + path


class Supervisor(HttpUser):
    weight = 3
    wait_time = between(1, 3)
    host = HOSTS[0]

    def on_start(self):
        me = next(_supervisors)
        self.headers = {"Authorization": f"Bearer {me['token']}", "Content-Type": "application/json"}
        self.visit_id = me["visit_id"]
        self.device_id = str(uuid.uuid4())
        self.cursor = 0
        self.mine: list[tuple[str, int]] = []
        more = True
        while more:  # the first pull of a fresh phone
            more = self._pull("/api/v1/sync/pull [first pull]")

    def _pull(self, name: str) -> bool:
        with self.client.get(url(f"/api/v1/sync/pull?cursor={self.cursor}&limit=500"), headers=self.headers,
                             name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return False
            body = r.json()
            self.cursor = body["cursor"]
            return bool(body["more"])

    @task(3)
    def pull(self):
        self._pull("/api/v1/sync/pull")

    @task(1)
    def push(self):
        now = datetime.now(UTC).isoformat()
        muts = []
        for n in range(5):
            fid = str(uuid.uuid4())
            muts.append({"mutation_id": str(uuid.uuid4()), "entity": "finding", "id": fid, "op": "upsert",
                         "base_version": 0, "client_time": now,
                         "data": {"visit_id": self.visit_id, "title": f"压力测试问题 {n}", "severity": "medium",
                                  "area": "process", "description": "通道堆放纸箱", "captured_at": now}})
        if self.mine:
            fid, version = self.mine.pop(0)
            muts.append({"mutation_id": str(uuid.uuid4()), "entity": "finding", "id": fid, "op": "upsert",
                         "base_version": version, "client_time": now, "data": {"severity": "high"}})
        body = json.dumps({"device_id": self.device_id, "mutations": muts})
        with self.client.post(url("/api/v1/sync/push"), data=body, headers=self.headers, name="/api/v1/sync/push",
                              catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return
            results = r.json()["results"]
            bad = [res for res in results if res["status"] not in ("applied", "merged", "conflict")]
            if bad:
                r.failure(f"{len(bad)} mutations not accepted: {bad[0]['status']}")
                return
            self.mine.extend((res["id"], res["version"]) for res in results[:5])


class DeskUser(HttpUser):
    weight = 2
    wait_time = between(2, 5)
    host = HOSTS[0]

    def on_start(self):
        account = random.choice(PLAN["desk"])
        page = self.client.get(url("/login"), name="/login")
        token = CSRF.search(page.text).group(1)
        with self.client.post(url("/login"), data={"csrf_token": token, "username": account["username"],
                                                   "password": account["password"]},
                              name="/login [sign in]", catch_response=True, allow_redirects=False) as r:
            if r.status_code != 302:
                r.failure(f"sign-in answered {r.status_code}")
        self.findings: list[str] = []

    def _get(self, path: str, name: str):
        with self.client.get(url(path), name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
            return r

    @task(4)
    def findings_list(self):
        r = self._get("/findings/", "/findings/")
        self.findings = FINDING_LINK.findall(r.text or "")[:20] or self.findings

    @task(2)
    def findings_filtered(self):
        self._get(random.choice(["/findings/?severity=high", "/findings/?status=open", "/findings/?q=灭火器",
                                 "/findings/?min_severity=high&overdue=1"]), "/findings/?filters")

    @task(2)
    def finding(self):
        if self.findings:
            self._get(f"/findings/{random.choice(self.findings)}", "/findings/<id>")

    @task(2)
    def dashboard(self):
        self._get(random.choice(["/results/", "/results/?period=2026"]), "/results/ (dashboard)")

    @task(1)
    def reports(self):
        self._get("/reports/", "/reports/")

    @task(1)
    def plans(self):
        self._get("/plans/", "/plans/")

    @task(1)
    def rectification(self):
        self._get("/rectification/", "/rectification/")
