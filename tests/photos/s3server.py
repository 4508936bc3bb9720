"""A real S3-compatible server for the tests: moto's standalone server (`moto[server]`), started in
its own process on 127.0.0.1 with authentication and IAM policies enforced, stopped afterwards.

The first SETUP_ACTIONS requests are unauthenticated (moto's INITIAL_NO_AUTH_ACTION_COUNT): they
create an administrator (to make buckets and policies) and the application's user, who may only
get, put and delete objects — never list a bucket. Every request after that is signed and checked.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass

import boto3

from tests.sync.servers import free_port

SETUP_ACTIONS = 6
REGION = "us-east-1"
APP_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "Resource": "*"}]}
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass
class Keys:
    access_key: str
    secret_key: str


class S3Server:
    def __init__(self, log_path):
        self.log_path = log_path
        self.proc = None

    def start(self) -> "S3Server":
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_ACTIONS), "AWS_DEFAULT_REGION": REGION}
        self.log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"moto server did not start (see {self.log_path})") from None
                time.sleep(0.1)
        iam = self.client("iam", Keys("setup", "setup"))
        self.admin = self._user(iam, "admin", ADMIN_POLICY)
        self.app = self._user(iam, "app", APP_POLICY)
        return self

    def _user(self, iam, name: str, policy: dict) -> Keys:
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
        return Keys(key["AccessKeyId"], key["SecretAccessKey"])

    def client(self, service: str = "s3", keys: Keys | None = None):
        keys = keys or self.admin
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=keys.access_key, aws_secret_access_key=keys.secret_key)

    def new_bucket(self, policy_statements=()) -> str:
        """A fresh bucket (made by the administrator), with an optional bucket policy."""
        name = f"evidence-{uuid.uuid4().hex[:12]}"
        s3 = self.client()
        s3.create_bucket(Bucket=name)
        if policy_statements:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(
                {"Version": "2012-10-17", "Statement": list(policy_statements)}))
        return name

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if getattr(self, "log", None):
            self.log.close()
