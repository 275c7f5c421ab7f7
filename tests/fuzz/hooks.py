"""Schemathesis hooks for fuzzing kefu's API (loaded by `run.py` through SCHEMATHESIS_HOOKS).

They give the generator what a schema cannot: the ids of rows that exist, so that
requests reach past "not found", and they keep a run from sawing off the branch it sits
on (signing out or re-passwording the fuzzing account, deleting the demo channel or
flow). They never make a request the document calls invalid look valid: a body keeps
its shape, only an id is swapped for the id of a real row of the same kind.

The driver passes what it learned before the run as JSON in KEFU_FUZZ_CONTEXT:
  {"base": url, "admin_token": …, "self_id": …, "ids": {"agents": […], "skill_groups": […],
   "flows": […], "channels": […], "plugins": […]}, "protected": {"channels": […], "flows": […]}}
"""

import json
import os
import re
import uuid

import schemathesis
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case

CONTEXT = json.loads(os.environ.get("KEFU_FUZZ_CONTEXT", "{}"))
IDS = CONTEXT.get("ids", {})
PROTECTED = CONTEXT.get("protected", {})
SELF_ID = CONTEXT.get("self_id")

# Which kind of row the `{id}` of a path names, by the path's prefix.
PATH_KINDS = [
    ("/api/v1/agents/", "agents"),
    ("/api/v1/skill-groups/", "skill_groups"),
    ("/api/v1/flows/", "flows"),
    ("/api/v1/channels/", "channels"),
    ("/api/v1/plugins/", "plugins"),
]


@schemathesis.serializer("application/wasm")
def wasm(ctx, value):
    """A component is sent as the bytes generated for it."""
    if isinstance(value, str):
        return {"data": value.encode("utf-8", "surrogatepass")}
    return {"data": bytes(value)}


def _kind(path):
    for prefix, kind in PATH_KINDS:
        if path.startswith(prefix):
            return kind
    return None


def _usable(kind, method):
    """Real ids a request may name, leaving out those it must not harm."""
    ids = list(IDS.get(kind, []))
    if method in ("delete", "patch") or kind == "agents":
        ids = [i for i in ids if i not in PROTECTED.get(kind, [])]
    return ids


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    """Half the time, the `{id}` of a path names a real row of the kind it expects."""
    op = ctx.operation
    if not isinstance(path_parameters, dict) or "id" not in path_parameters:
        return st.just(path_parameters)
    ids = _usable(_kind(op.path), op.method.lower())
    if not ids:
        return st.just(path_parameters)
    real = [dict(path_parameters, id=i) for i in ids]
    return st.sampled_from([path_parameters, *real])


@schemathesis.hook
def filter_case(ctx, case):
    """The fuzzing account stays signed in with its own password and role."""
    op = ctx.operation
    params = case.path_parameters or {}
    if op.path == "/api/v1/agents/{id}" and op.method.lower() == "patch":
        return params.get("id") != SELF_ID
    return True


def _is_uuid(value):
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def _swap(value, kind, index):
    """A real id in place of a generated one; anything that is not an id stays."""
    ids = IDS.get(kind, [])
    if ids and isinstance(value, str) and _is_uuid(value):
        return ids[index % len(ids)]
    return value


@schemathesis.hook
def map_body(ctx, body):
    """Ids in bodies name real rows of the kind the field names."""
    if not isinstance(body, dict):
        return body
    path = ctx.operation.path
    body = dict(body)
    if path in ("/api/v1/agents", "/api/v1/agents/{id}"):
        groups = body.get("skill_groups")
        if isinstance(groups, list):
            seen, kept = set(), []
            for i, m in enumerate(groups):
                if isinstance(m, dict) and "skill_group_id" in m:
                    m = dict(m, skill_group_id=_swap(m["skill_group_id"], "skill_groups", i))
                    # The document asks for each group once.
                    if m["skill_group_id"] in seen:
                        continue
                    seen.add(m["skill_group_id"])
                kept.append(m)
            body["skill_groups"] = kept
    if path in ("/api/v1/channels", "/api/v1/channels/{id}"):
        if body.get("flow_id") is not None:
            body["flow_id"] = _swap(body["flow_id"], "flows", 0)
        if body.get("default_skill_group_id") is not None:
            body["default_skill_group_id"] = _swap(body["default_skill_group_id"], "skill_groups", 0)
    return body


# What decides beyond a schema, as each operation's document says: the 422 codes an
# operation answers for what only the server can judge, and the fields of a 422
# `validation_failed` it may name for rows that must exist or be listed once.
WEBHOOK_TYPES = re.compile(r'name 1 or more event types, or \["\*"\]|".*" is not an event type', re.S)
WEBHOOK_URL = re.compile(r"the URL is not valid: .*|the URL has no host|.* is not an http\(s\) URL|.* is not a public address .*", re.S)

STATS_RANGE = re.compile(r"`to` is before `from`|a report covers at most \d+ days|the date is out of range")

BEYOND_SCHEMA = {
    ("POST", "/api/v1/plugins"): {"codes": {
        "not_wasm", "not_a_component", "invalid_component", "unsupported_import",
        "wrong_world", "too_complex", "compile_timeout", "describe_failed"}},
    ("POST", "/api/v1/plugins/{id}/validate-config"): {"codes": {"step_failed"}},
    ("POST", "/api/v1/plugins/{id}/dry-run"): {"codes": {"step_failed"}},
    ("POST", "/api/v1/flows/{id}/publish"): {"codes": {"flow_invalid"}},
    ("POST", "/api/v1/flows/{id}/rollback"): {"codes": {"flow_invalid"}},
    ("POST", "/api/v1/agents"): {"fields": {
        r"skill_groups\[\d+\]\.skill_group_id": {"no such skill group", "listed twice"}}},
    ("PATCH", "/api/v1/agents/{id}"): {"fields": {
        r"skill_groups\[\d+\]\.skill_group_id": {"no such skill group", "listed twice"}}},
    ("POST", "/api/v1/channels"): {"fields": {
        "flow_id": {"no such flow"}, "default_skill_group_id": {"no such skill group"}}},
    ("PATCH", "/api/v1/channels/{id}"): {"fields": {
        "flow_id": {"no such flow"}, "default_skill_group_id": {"no such skill group"}}},
    ("PUT", "/api/v1/agent/status"): {"fields": {
        "reason": {"must be one of the tenant's rest reasons"}}},
    # The list and the export share their filters; each refuses the other's parameters.
    # A time the pattern admits may still not exist (month 13, hour 25).
    ("GET", "/api/v1/records"): {"fields": {
        "from|to": {"must be an RFC 3339 time or a date (YYYY-MM-DD)"},
        "format": {"is for exports (/api/v1/records/export)"},
        "cursor": {"is not a cursor this API gave"}}},
    ("GET", "/api/v1/records/export"): {"fields": {
        "from|to": {"must be an RFC 3339 time or a date (YYYY-MM-DD)"},
        "cursor": {"exports are not paged: leave out cursor and limit"}}},
    # A report's range: `from` not after `to`, and at most so many days.
    ("GET", "/api/v1/stats/sessions"): {"fields": {"to": STATS_RANGE}},
    ("GET", "/api/v1/stats/agents"): {"fields": {"to": STATS_RANGE}},
    # A try's state is the opaque value an earlier answer gave.
    ("POST", "/api/v1/flows/{id}/try"): {"fields": {"state": {"not a state this endpoint answered"}}},
    # Event types are a list the server knows; a URL must name a public http(s) host.
    ("POST", "/api/v1/webhooks"): {"fields": {"event_types": WEBHOOK_TYPES, "url": WEBHOOK_URL}},
    ("PATCH", "/api/v1/webhooks/{id}"): {"fields": {"event_types": WEBHOOK_TYPES, "url": WEBHOOK_URL}},
}

REFUSALS = {400, 413, 415, 422}


def _documented_refusal(method, path, body):
    allowed = BEYOND_SCHEMA.get((method, path))
    if not allowed or not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return False
    error = body["error"]
    if error.get("code") in allowed.get("codes", ()):
        return True
    fields = error.get("fields") or {}
    if error.get("code") != "validation_failed" or not fields:
        return False
    rules = allowed.get("fields", {})
    return all(
        any(re.fullmatch(name, field) and _matches(messages, message) for name, messages in rules.items())
        for field, message in fields.items()
    )


def _matches(messages, message):
    if isinstance(messages, re.Pattern):
        return isinstance(message, str) and messages.fullmatch(message) is not None
    return message in messages


@schemathesis.check
def refusals_as_documented(ctx, response, case):
    """A request the document calls valid is not refused (400, 413, 415, 422), unless
    the refusal is one the document names as beyond a schema (`BEYOND_SCHEMA`)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or is_unexpected_http_status_case(case):
        return None
    if response.status_code not in REFUSALS:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if _documented_refusal(case.operation.method.upper(), case.operation.path, body):
        return None
    raise AssertionError(
        f"a request the document calls valid was refused with {response.status_code}: "
        f"{json.dumps(body, ensure_ascii=False)[:500]}"
    )
