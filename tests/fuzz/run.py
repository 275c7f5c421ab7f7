"""Fuzzes a real kefu: every operation of its OpenAPI document with schemathesis, once
as the demo admin and once as a demo agent, then the IM endpoints with `im.py`; prints
a summary table and exits non-zero on any failure.

    python3 tests/fuzz/run.py [--bin target/debug/kefu] [--examples N] [--seed S]

`.ci/fuzz` installs the pinned schemathesis into a virtualenv and runs this with it.
The server runs the demo tenant on SQLite in a temporary directory, on a free port of
127.0.0.1, with a generated demo password; it is stopped at the end whatever happens.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import im  # noqa: E402

SIGN_OUT = "/api/v1/auth/logout"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, token=None, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if body is not None:
            request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                text = answer.read()
                return answer.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def ok(self, method, path, token=None, body=None):
        status, doc = self.call(method, path, token, body)
        if status >= 300:
            raise SystemExit(f"{method} {path}: HTTP {status} {doc}")
        return doc

    def login(self, email, password):
        body = {"tenant": "demo", "email": email, "password": password}
        return self.ok("POST", "/api/v1/auth/login", body=body)["access_token"]


def wait_ready(api, server, log_path, limit_secs):
    deadline = time.time() + limit_secs
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"kefu exited with {server.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if api.call("GET", "/readyz")[0] == 200 and api.call("GET", "/api/v1/openapi.json")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"kefu was not ready within {limit_secs} s:\n{log_path.read_text()[-4000:]}")


def ids(api, token, path):
    doc = api.ok("GET", path, token)
    items = doc["items"] if isinstance(doc, dict) else doc
    return [item["id"] for item in items]


def schemathesis(st, base, role, token, context, args, work, only=None):
    """One schemathesis run; answers its figures, read from its NDJSON report."""
    slug = "".join(c if c.isalnum() else "-" for c in role)
    reports = work / f"reports-{slug}"
    env = dict(os.environ, PYTHONPATH=str(HERE), SCHEMATHESIS_HOOKS="hooks",
               KEFU_FUZZ_CONTEXT=json.dumps(context))
    command = [
        st, "--config-file", str(HERE / "schemathesis.toml"), "--no-color", "run",
        base + "/api/v1/openapi.json",
        "--header", "Authorization: Bearer " + token,
        "--max-examples", str(args.examples),
        "--seed", str(args.seed),
        "--phases", "examples,coverage,fuzzing",
        "--workers", "1",
        "--report", "ndjson",
        "--report-dir", str(reports),
        "--output-truncate", "true",
    ]
    # Signing out ends the run's sign-in: it gets a run, and a token, of its own.
    command += ["--include-path", only] if only else ["--exclude-path", SIGN_OUT]
    print(f"== schemathesis as {role}", flush=True)
    out = work / f"schemathesis-{slug}.txt"
    started = time.time()
    with out.open("w") as sink:
        code = subprocess.call(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    text = out.read_text()
    return dict(role=role, code=code, secs=time.time() - started, output=text,
                **figures(reports))


def figures(reports):
    """Operations, cases, requests, 5xx and failed checks, from the run's NDJSON events."""
    operations, cases, requests, server_errors, failures, errors = set(), 0, 0, 0, {}, 0
    for events in reports.glob("*.ndjson"):
        for line in events.read_text().splitlines():
            event = json.loads(line)
            if "NonFatalError" in event:
                errors += 1
            data = event.get("ScenarioFinished")
            if not data or data.get("status") == "skip":
                continue
            recorder = data.get("recorder", {})
            operations.add(recorder.get("label"))
            cases += len(recorder.get("cases", {}))
            for interaction in recorder.get("interactions", {}).values():
                requests += 1
                response = interaction.get("response") or {}
                server_errors += response.get("status_code", 0) >= 500
            for checks in recorder.get("checks", {}).values():
                for check in checks:
                    if check.get("status", "").lower() == "failure":
                        failures[check["name"]] = failures.get(check["name"], 0) + 1
    return dict(requests=requests, server_errors=server_errors, operations=len(operations),
                cases=cases, failures=failures, errors=errors)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=str(ROOT / "target" / "debug" / "kefu"))
    parser.add_argument("--examples", type=int, default=int(os.environ.get("KEFU_FUZZ_EXAMPLES", "15")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("KEFU_FUZZ_SEED", "15")))
    parser.add_argument("--st", default=shutil.which("st") or "st")
    parser.add_argument("--ready-secs", type=int, default=600)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kefu-fuzz."))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    password = secrets.token_urlsafe(12)
    im_secret = secrets.token_hex(16)
    env = dict(
        os.environ,
        KEFU_DEMO_PASSWORD=password,
        KEFU_DEMO_IM_SECRET=im_secret,
        # Fuzzed logins fail by the hundred: the throttle must not lock out the
        # accounts the run signs in with (it is tested by the API suite).
        KEFU_AUTH__LOGIN_FAILURES_PER_ACCOUNT="1000000",
        KEFU_AUTH__LOGIN_FAILURES_PER_ADDRESS="1000000",
        RUST_LOG="warn,kefu=info",
    )
    log_path = work / "kefu.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [args.bin, "serve", "--demo", "--listen", f"127.0.0.1:{port}", "--data-dir", str(work / "data")],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        return fuzz(args, work, base, password, im_secret, server, log_path)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def fuzz(args, work, base, password, im_secret, server, log_path):
    api = Api(base)
    started = time.time()
    wait_ready(api, server, log_path, args.ready_secs)
    print(f"== kefu ready at {base} after {time.time() - started:.0f} s (work dir {work})", flush=True)

    admin = api.login("admin@demo.kefu", password)
    me = api.ok("GET", "/api/v1/me", admin)
    channels = api.ok("GET", "/api/v1/channels", admin)["items"]
    demo = channels[0]
    flows = ids(api, admin, "/api/v1/flows")
    context = dict(
        base=base,
        admin_token=admin,
        ids=dict(
            agents=ids(api, admin, "/api/v1/agents"),
            skill_groups=ids(api, admin, "/api/v1/skill-groups"),
            flows=flows,
            channels=[c["id"] for c in channels],
            plugins=ids(api, admin, "/api/v1/plugins"),
        ),
        protected=dict(channels=[demo["id"]], flows=flows),
    )

    # IM first, while the demo channel is as seeded.
    print("== IM ingress and callback", flush=True)
    token = secrets.token_hex(16)
    api.ok("PATCH", f"/api/v1/channels/{demo['id']}", admin, {"callback_token": token})
    sessions_before = api.ok("GET", "/api/v1/sessions?page_size=1", admin)["total"]
    target = im.Target("127.0.0.1", int(base.rsplit(":", 1)[1]), demo["sdkappid"], im_secret,
                       demo["admin_identifier"], demo["account"], token)
    im_sent, im_failures = im.run(target, print)
    sessions_after = api.ok("GET", "/api/v1/sessions?page_size=1", admin)["total"]
    im_written = sessions_after - sessions_before

    runs = []
    agent = api.login("agent1@demo.kefu", password)
    agent_me = api.ok("GET", "/api/v1/me", agent)
    runs.append(schemathesis(args.st, base, "agent", agent,
                             dict(context, self_id=agent_me["id"],
                                  protected=dict(context["protected"], agents=[agent_me["id"]])),
                             args, work))
    admin = api.login("admin@demo.kefu", password)
    runs.append(schemathesis(args.st, base, "admin", admin,
                             dict(context, admin_token=admin, self_id=me["id"],
                                  protected=dict(context["protected"], agents=[me["id"]])),
                             args, work))
    runs.append(schemathesis(args.st, base, "admin (sign-out)", api.login("admin@demo.kefu", password),
                             dict(context, self_id=me["id"]), args, work, only=SIGN_OUT))
    alive = api.call("GET", "/healthz")[0] == 200

    failed = False
    for r in runs:
        if r["code"] != 0:
            failed = True
            print(f"\n---- schemathesis as {r['role']} (exit {r['code']}) ----")
            print(r["output"][-30000:])
    if im_failures or im_written or not alive:
        failed = True

    schema_checks = ("status_code_conformance", "content_type_conformance",
                     "response_headers_conformance", "response_schema_conformance")
    print("\n## Fuzzing summary\n")
    print("| run | operations | cases generated | requests | 5xx seen | schema violations "
          "| valid requests refused | errors | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        f = r["failures"]
        schema = sum(f.get(name, 0) for name in schema_checks)
        print(f"| API as {r['role']} | {r['operations']} | {r['cases']} | {r['requests']} | "
              f"{r['server_errors']} | {schema} | {f.get('refusals_as_documented', 0)} | "
              f"{r['errors']} | {r['secs']:.0f} |")
    print()
    print("| IM endpoints | requests fuzzed | non-IM-shaped answers | sessions written |")
    print("|---|---:|---:|---:|")
    print(f"| sendmsg + callback | {im_sent} | {len(im_failures)} | {im_written} |")
    print(f"\nseed {args.seed}, {args.examples} examples per operation; kefu "
          f"{'answered' if alive else 'DID NOT ANSWER'} /healthz at the end")
    passed = sum(r["code"] == 0 for r in runs) + (not im_failures and not im_written)
    print(f"\nfuzz: {passed} passed, {len(runs) + 1 - passed} failed")
    if failed:
        print(f"\nFAILED (kefu's log: {log_path})")
        return 1
    if not os.environ.get("KEFU_FUZZ_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
