"""Fuzzes kefu's IM endpoints (`POST /v4/openim/sendmsg`, `POST /im/callback`) with
what a broken or hostile IM client sends: malformed JSON, invalid UTF-8, huge numbers,
deep nesting, huge bodies, wrong content types and methods, bad credentials. Every
answer must be HTTP 200 in IM's own shape, `{"ActionStatus": "FAIL", "ErrorCode": n > 0,
"ErrorInfo": text}`, and nothing may be written: the tenant's sessions are counted
before and after.

Each case is well authenticated unless it attacks authentication itself, so that it
reaches the parser; each is refused somewhere (a body no message can be read from, or
one addressed to no customer-service account), never accepted.
"""

import base64
import hashlib
import hmac
import http.client
import json
import time
import urllib.parse
import zlib


def usersig(sdkappid, key, identifier, expire=86400, now=None):
    """A TLSSigAPIv2 UserSig, as Tencent's libraries make it."""
    now = int(time.time()) if now is None else now
    content = (
        f"TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\n"
        f"TLS.time:{now}\nTLS.expire:{expire}\n"
    )
    sig = base64.b64encode(hmac.new(key.encode(), content.encode(), hashlib.sha256).digest())
    doc = {
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": now,
        "TLS.sig": sig.decode(),
    }
    packed = base64.b64encode(zlib.compress(json.dumps(doc).encode()))
    return packed.decode().translate(str.maketrans("+/=", "*-_"))


def raw_sig(document: bytes):
    """A UserSig around any document, to attack the decoder."""
    packed = base64.b64encode(zlib.compress(document))
    return packed.decode().translate(str.maketrans("+/=", "*-_"))


def nested(depth, leaf="0", open_="[", close="]"):
    return open_ * depth + leaf + close * depth


class Target:
    def __init__(self, host, port, sdkappid, secret, admin, account, callback_token):
        self.host, self.port = host, port
        self.sdkappid, self.secret, self.admin = sdkappid, secret, admin
        self.account, self.callback_token = account, callback_token

    def sendmsg_query(self, **override):
        params = {
            "sdkappid": str(self.sdkappid),
            "identifier": self.admin,
            "usersig": usersig(self.sdkappid, self.secret, self.admin),
            "random": "12345",
            "contenttype": "json",
        }
        params.update(override)
        return urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})

    def callback_query(self, **override):
        now = str(int(time.time()))
        params = {
            "SdkAppid": str(self.sdkappid),
            "CallbackCommand": "C2C.CallbackAfterSendMsg",
            "contenttype": "json",
            "ClientIP": "127.0.0.1",
            "OptPlatform": "RESTAPI",
            "RequestTime": now,
            "Sign": hashlib.sha256((self.callback_token + now).encode()).hexdigest(),
        }
        params.update(override)
        return urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


def message(to, **fields):
    body = {
        "From_Account": "fuzz-user",
        "To_Account": to,
        "MsgRandom": 7,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}],
    }
    body.update(fields)
    return body


def bodies(account):
    """(name, bytes) of bodies no message can be taken from."""
    nobody = "nobody-here"  # no customer-service account: refused even when well formed
    out = [
        ("empty", b""),
        ("whitespace", b" \n\t "),
        ("truncated", b'{"To_Account": "x", "MsgBody": ['),
        ("trailing garbage", json.dumps(message(account)).encode() + b"}}"),
        ("single quotes", b"{'To_Account': 'x'}"),
        ("comment", b'/* x */ {"To_Account": "x"}'),
        ("NaN", b'{"To_Account": "x", "MsgRandom": NaN}'),
        ("Infinity", b'{"To_Account": "x", "MsgRandom": Infinity}'),
        ("null", b"null"),
        ("array", b"[]"),
        ("string", b'"text"'),
        ("number", b"12345"),
        ("byte order mark", b"\xef\xbb\xbf" + json.dumps(message(account)).encode()),
        ("NUL bytes", b"\x00" * 64),
        ("invalid UTF-8 in a string", b'{"To_Account": "\xc3\x28", "MsgRandom": 1}'),
        ("invalid UTF-8 lead bytes", b"\xff\xfe\xfd"),
        ("overlong UTF-8", b'{"To_Account": "\xc0\xaf"}'),
        ("lone surrogate escape", b'{"To_Account": "\\ud800", "MsgRandom": 1, "MsgBody": []}'),
        ("MsgRandom 2^64", json.dumps(message(account, MsgRandom=2**64)).encode()),
        ("MsgRandom 1e400", b'{"To_Account": "x", "MsgRandom": 1e400, "MsgBody": []}'),
        ("MsgRandom -1", json.dumps(message(account, MsgRandom=-1)).encode()),
        ("MsgRandom 2^32", json.dumps(message(account, MsgRandom=2**32)).encode()),
        ("MsgRandom 1.5", json.dumps(message(account, MsgRandom=1.5)).encode()),
        ("MsgRandom as text", json.dumps(message(account, MsgRandom="7")).encode()),
        ("MsgSeq 10^30", json.dumps(message(account, MsgSeq=10**30)).encode()),
        ("MsgLifeTime 10^30", json.dumps(message(account, MsgLifeTime=10**30)).encode()),
        ("MsgLifeTime 8 days", json.dumps(message(account, MsgLifeTime=8 * 86400)).encode()),
        ("SyncOtherMachine 2^70", json.dumps(message(account, SyncOtherMachine=2**70)).encode()),
        ("a 400-digit number", b'{"To_Account": "x", "MsgRandom": 1' + b"0" * 400 + b"}"),
        ("an exponent of 10^9", b'{"To_Account": "x", "MsgRandom": 1e1000000000}'),
        ("deep arrays", nested(100_000).encode()),
        ("deep objects", nested(100_000, "0", '{"a":', "}").encode()),
        ("deep MsgBody", ('{"To_Account": "x", "MsgRandom": 1, "MsgBody": ' + nested(5000) + "}").encode()),
        ("nesting within the parser's limit, to no account", json.dumps(message(
            nobody, OfflinePushInfo=json.loads(nested(120, "{}", '{"a":', "}")))).encode()),
        ("To_Account a number", json.dumps(message(12345)).encode()),
        ("To_Account empty", json.dumps(message("")).encode()),
        ("To_Account of 33 bytes", json.dumps(message("u" * 33)).encode()),
        ("To_Account of nobody", json.dumps(message(nobody)).encode()),
        ("From_Account a list", json.dumps(message(account, From_Account=["a"])).encode()),
        ("MsgBody an object", json.dumps(message(account, MsgBody={"MsgType": "TIMTextElem"})).encode()),
        ("MsgBody empty", json.dumps(message(account, MsgBody=[])).encode()),
        ("MsgBody null", json.dumps(message(account, MsgBody=None)).encode()),
        ("MsgContent text", json.dumps(message(account, MsgBody=[{"MsgType": "TIMTextElem", "MsgContent": "hi"}])).encode()),
        ("Text a number", json.dumps(message(account, MsgBody=[{"MsgType": "TIMTextElem", "MsgContent": {"Text": 1}}])).encode()),
        ("two custom elements", json.dumps(message(account, MsgBody=[
            {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "a"}},
            {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "b"}}])).encode()),
        ("2000 elements", json.dumps(message(account, MsgBody=[
            {"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}] * 2000)).encode()),
        ("a 13 KB text", json.dumps(message(account, MsgBody=[
            {"MsgType": "TIMTextElem", "MsgContent": {"Text": "x" * 13 * 1024}}])).encode()),
        ("a 100 KB body", json.dumps(message(account, CloudCustomData="x" * 100 * 1024)).encode()),
        ("a 2 MB body", b'{"To_Account": "' + b"x" * (2 * 1024 * 1024) + b'"}'),
        ("a 20 MB body", b"[" * (20 * 1024 * 1024)),
        ("10^5 keys", ("{" + ",".join(f'"k{i}":{i}' for i in range(100_000)) + "}").encode()),
        ("duplicate keys", b'{"To_Account": "x", "To_Account": 5, "MsgRandom": 1, "MsgBody": []}'),
    ]
    return out


def check(status, headers, data):
    """Why an answer is not IM's error shape, or None when it is."""
    if status != 200:
        return f"HTTP {status}"
    ctype = headers.get("content-type", "")
    if not ctype.startswith("application/json"):
        return f"Content-Type {ctype!r}"
    try:
        doc = json.loads(data)
    except ValueError:
        return f"not JSON: {data[:80]!r}"
    if not isinstance(doc, dict):
        return f"not an object: {data[:80]!r}"
    if doc.get("ActionStatus") != "FAIL":
        return f"ActionStatus {doc.get('ActionStatus')!r}"
    code = doc.get("ErrorCode")
    if not isinstance(code, int) or isinstance(code, bool) or code <= 0:
        return f"ErrorCode {code!r}"
    if not isinstance(doc.get("ErrorInfo"), str):
        return f"ErrorInfo {doc.get('ErrorInfo')!r}"
    return None


def send(target, method, path, body, content_type="application/json", chunked=False):
    conn = http.client.HTTPConnection(target.host, target.port, timeout=60)
    try:
        headers = {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
            conn.putrequest(method, path)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders()
            step = 64 * 1024
            for i in range(0, len(body), step):
                piece = body[i:i + step]
                try:
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                except (BrokenPipeError, ConnectionResetError):
                    break  # the server stopped reading: its answer tells why
            try:
                conn.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            try:
                conn.request(method, path, body=body, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                pass
        try:
            answer = conn.getresponse()
        except (ConnectionResetError, http.client.RemoteDisconnected) as e:
            return 0, {}, f"connection dropped: {e}".encode()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def cases(target):
    """Every (name, method, path, body, content type, chunked) to try."""
    send_path = "/v4/openim/sendmsg?" + target.sendmsg_query()
    cb_path = "/im/callback?" + target.callback_query()
    out = []
    for name, body in bodies(target.account):
        out.append((f"sendmsg: {name}", "POST", send_path, body, "application/json", False))
        cb_body = body
        if body.startswith(b"{") and body.endswith(b"}"):
            try:
                doc = json.loads(body)
                if isinstance(doc, dict) and "To_Account" in doc:
                    doc["CallbackCommand"] = "C2C.CallbackAfterSendMsg"
                    # The callback reads fewer fields than sendmsg: what sendmsg refuses
                    # for a field the callback ignores must still find no account.
                    if doc["To_Account"] == target.account:
                        doc["To_Account"] = "nobody-here"
                    cb_body = json.dumps(doc).encode()
            except (ValueError, RecursionError):
                pass
        out.append((f"callback: {name}", "POST", cb_path, cb_body, "application/json", False))
    good = json.dumps(message("nobody-here")).encode()
    for ctype in [None, "text/plain", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x", "application/xml", "application/json; charset=gbk",
                  "\u00e9/\u00e9".encode("utf-8").decode("latin-1")]:
        out.append((f"sendmsg: Content-Type {ctype!r}", "POST", send_path, good, ctype, False))
        out.append((f"callback: Content-Type {ctype!r}", "POST", cb_path, good, ctype, False))
    out.append(("sendmsg: XML body", "POST", send_path, b"<msg><To_Account>x</To_Account></msg>", "application/xml", False))
    out.append(("sendmsg: form body", "POST", send_path, b"To_Account=x&MsgRandom=1", "application/x-www-form-urlencoded", False))
    out.append(("sendmsg: chunked 20 MB", "POST", send_path, b" " * (20 * 1024 * 1024), "application/json", True))
    out.append(("callback: chunked 20 MB", "POST", cb_path, b" " * (20 * 1024 * 1024), "application/json", True))
    for method in ["GET", "PUT", "DELETE", "PATCH"]:
        out.append((f"sendmsg: {method}", method, send_path, good, "application/json", False))
        out.append((f"callback: {method}", method, cb_path, good, "application/json", False))
    # Authentication and the query string.
    t = target
    bad_queries = {
        "no query": "",
        "no sdkappid": t.sendmsg_query(sdkappid=None),
        "sdkappid text": t.sendmsg_query(sdkappid="abc"),
        "sdkappid 10^30": t.sendmsg_query(sdkappid="1" + "0" * 30),
        "sdkappid -1": t.sendmsg_query(sdkappid="-1"),
        "unknown sdkappid": t.sendmsg_query(sdkappid="1"),
        "no identifier": t.sendmsg_query(identifier=None),
        "identifier of 1000 bytes": t.sendmsg_query(identifier="a" * 1000),
        "another identifier": t.sendmsg_query(identifier="someone"),
        "no usersig": t.sendmsg_query(usersig=None),
        "usersig garbage": t.sendmsg_query(usersig="!!!not base64!!!"),
        "usersig of 16 KB": t.sendmsg_query(usersig="A" * (16 * 1024)),
        "usersig of another key": t.sendmsg_query(usersig=usersig(t.sdkappid, "another key 0123456789", t.admin)),
        "usersig expired": t.sendmsg_query(usersig=usersig(t.sdkappid, t.secret, t.admin, expire=1, now=1_000_000)),
        "usersig from the future": t.sendmsg_query(usersig=usersig(t.sdkappid, t.secret, t.admin, now=int(time.time()) + 10**9)),
        "usersig expire 2^70": t.sendmsg_query(usersig=usersig(t.sdkappid, t.secret, t.admin, expire=2**70)),
        "usersig document not JSON": t.sendmsg_query(usersig=raw_sig(b"\xff\xfe not json")),
        "usersig document deep": t.sendmsg_query(usersig=raw_sig(nested(10_000).encode())),
        "usersig inflating to 10 MB": t.sendmsg_query(usersig=raw_sig(b" " * (10 * 1024 * 1024))),
        "no random": t.sendmsg_query(random=None),
        "random 2^64": t.sendmsg_query(random=str(2**64)),
        "contenttype xml": t.sendmsg_query(contenttype="xml"),
        "repeated sdkappid": t.sendmsg_query() + "&sdkappid=1",
    }
    for name, query in bad_queries.items():
        out.append((f"sendmsg: {name}", "POST", "/v4/openim/sendmsg?" + query, json.dumps(message(t.account)).encode(), "application/json", False))
    # Well authenticated, so addressed to nobody: only the query string is odd.
    for name, query in {
        "percent-encoded invalid UTF-8": t.sendmsg_query() + "&x=%FF%FE",
        "a 16 KB query": t.sendmsg_query() + "&pad=" + "a" * (16 * 1024),
    }.items():
        out.append((f"sendmsg: {name}", "POST", "/v4/openim/sendmsg?" + query, json.dumps(message("nobody-here")).encode(), "application/json", False))
    now = int(time.time())
    bad_callbacks = {
        "no query": "",
        "no SdkAppid": t.callback_query(SdkAppid=None),
        "SdkAppid 10^30": t.callback_query(SdkAppid="1" + "0" * 30),
        "unknown SdkAppid": t.callback_query(SdkAppid="1"),
        "no Sign": t.callback_query(Sign=None),
        "wrong Sign": t.callback_query(Sign="0" * 64),
        "Sign of 16 KB": t.callback_query(Sign="a" * (16 * 1024)),
        "stale RequestTime": t.callback_query(RequestTime=str(now - 3600), Sign=hashlib.sha256((t.callback_token + str(now - 3600)).encode()).hexdigest()),
        "RequestTime 10^30": t.callback_query(RequestTime="1" + "0" * 30),
        "RequestTime text": t.callback_query(RequestTime="soon"),
        "another command, unsigned": t.callback_query(CallbackCommand="State.StateChange", Sign=None),
    }
    for name, query in bad_callbacks.items():
        body = dict(message(t.account), CallbackCommand="C2C.CallbackAfterSendMsg")
        out.append((f"callback: {name}", "POST", "/im/callback?" + query, json.dumps(body).encode(), "application/json", False))
    # Well signed, so addressed to nobody: only the query string is odd.
    body = dict(message("nobody-here"), CallbackCommand="C2C.CallbackAfterSendMsg")
    for name, query in {
        "percent-encoded invalid UTF-8": t.callback_query() + "&x=%FF",
        "a 16 KB query": t.callback_query() + "&pad=" + "a" * (16 * 1024),
    }.items():
        out.append((f"callback: {name}", "POST", "/im/callback?" + query, json.dumps(body).encode(), "application/json", False))
    return out


def run(target, log):
    """Sends every case; answers (requests sent, [(case, why)] of answers not in IM's shape)."""
    failures = []
    all_cases = cases(target)
    for name, method, path, body, ctype, chunked in all_cases:
        status, headers, data = send(target, method, path, body, ctype, chunked)
        why = check(status, headers, data)
        if why is not None:
            failures.append((name, why))
            log(f"  IM {name}: {why}")
    return len(all_cases), failures
