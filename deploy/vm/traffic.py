#!/usr/bin/env python3
"""A hall's traffic against a hub, and the check that nothing it acknowledged was lost.

    traffic.py run URL LOG SECONDS   issue tickets and call them at counter 1 as the manager until
                                     SECONDS pass or the hub stops answering; every acknowledged
                                     ticket and call is appended to LOG as it is answered
    traffic.py verify URL LOG        every ticket in LOG exists, every call in LOG is no longer
                                     waiting, and a new ticket numbers on after the highest
    traffic.py issue URL             take one ticket as the manager and print its number (or
                                     "refused STATUS CODE", exit status 1)
    traffic.py verify-kept URL LOG   verify without taking a new ticket
    traffic.py clock URL             print the staff's clock alert (nothing when the clock is right)
    traffic.py storage URL           print the staff's storage alert (nothing when there is room)
    traffic.py token URL             sign in as the manager and print the token (HALLQ_TOKEN=...
                                     makes the other commands use it instead of signing in)
    traffic.py printer PORT OUT      a network ticket printer on 127.0.0.1:PORT: answers status
                                     queries (DLE EOT n) as a ready printer does and appends every
                                     byte it is sent to OUT
"""
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

SERVICE = "pay"


def api(url, method, path, token=None, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
        return r.status, (json.loads(raw) if raw else None)


def login(url):
    # A token taken earlier (HALLQ_TOKEN): signing in writes a session, which a full disk refuses.
    if os.environ.get("HALLQ_TOKEN"):
        return os.environ["HALLQ_TOKEN"]
    _, body = api(url, "POST", "/api/v1/login", body={"login": "manager", "password": "manager-pass-1"})
    return body["token"]


def seq(number):
    return int("".join(c for c in number if c.isdigit()))


def run(url, log_path, seconds):
    try:
        token = login(url)
    except (urllib.error.URLError, OSError, ValueError):
        return  # the power went before the first ticket
    try:
        api(url, "POST", "/api/v1/counters/1/open", token)
    except (urllib.error.URLError, OSError, ValueError):
        pass  # already open, or the power went (the loop below sees it)
    # Signed in (slow under emulation): the power cut may come from now on.
    open(log_path + ".ready", "w").close()
    end = time.time() + seconds
    n = 0
    with open(log_path, "a") as log:
        while time.time() < end:
            try:
                status, t = api(url, "POST", "/api/v1/tickets", token, {"service": SERVICE})
                if status == 201:
                    log.write(json.dumps({"issued": t["number"]}) + "\n")
                    log.flush()
                n += 1
                if n % 2 == 0:
                    status, c = api(url, "POST", "/api/v1/counters/1/next", token)
                    if status == 200 and c and c.get("number"):
                        log.write(json.dumps({"called": c["number"]}) + "\n")
                        log.flush()
            except (urllib.error.URLError, OSError, ValueError):
                return  # the power went


def verify(url, log_path, issue_new=True):
    issued, called = [], []
    for line in open(log_path):
        e = json.loads(line)
        (issued if "issued" in e else called).append(e.get("issued") or e.get("called"))
    bad = []
    for number in issued:
        try:
            api(url, "GET", f"/api/v1/tickets/{number}")
        except urllib.error.HTTPError as e:
            bad.append(f"ticket {number} acknowledged but gone ({e.code})")
    for number in called:
        try:
            _, s = api(url, "GET", f"/api/v1/tickets/{number}")
            if s["state"] == "waiting":
                bad.append(f"call of {number} acknowledged but the ticket is waiting again")
        except urllib.error.HTTPError as e:
            bad.append(f"called ticket {number} gone ({e.code})")
    if issue_new:
        token = login(url)
        _, t = api(url, "POST", "/api/v1/tickets", token, {"service": SERVICE})
        top = max((seq(n) for n in issued), default=0)
        if seq(t["number"]) <= top:
            bad.append(f"new ticket {t['number']} does not number on after {top}")
        with open(log_path, "a") as log:
            log.write(json.dumps({"issued": t["number"]}) + "\n")
    for b in bad:
        print(b)
    print(f"{len(issued)} tickets and {len(called)} calls acknowledged, {len(bad)} lost")
    return not bad


def printer(port, out_path):
    lock = threading.Lock()

    def serve(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                with lock, open(out_path, "ab") as out:
                    out.write(data)
                # The kiosk asks (DLE EOT n, three at a time) and waits before it sends a job: a
                # read of nothing but queries gets one status byte each, fixed bits only (online,
                # cover shut, paper present), as a ready ESC/POS printer answers. Raster bytes
                # that happen to look like a query are part of a job and get nothing.
                triples = [data[i:i + 3] for i in range(0, len(data), 3)]
                if len(data) % 3 == 0 and all(t[:2] == b"\x10\x04" for t in triples):
                    conn.sendall(b"\x12" * len(triples))

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(4)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def issue(url):
    try:
        _, t = api(url, "POST", "/api/v1/tickets", login(url), {"service": SERVICE})
    except urllib.error.HTTPError as e:
        body = json.loads(e.read() or b"{}")
        print(f"refused {e.code} {body.get('error', {}).get('code')}")
        sys.exit(1)
    print(t["number"])


def alert(url, part):
    _, a = api(url, "GET", "/api/v1/alerts", login(url))
    problem = (a.get(part) or {}).get("problem")
    if problem:
        print(problem["zh"])


if __name__ == "__main__":
    if sys.argv[1] == "printer":
        printer(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    if sys.argv[1] == "issue":
        issue(sys.argv[2])
        sys.exit(0)
    if sys.argv[1] == "token":
        print(login(sys.argv[2]))
        sys.exit(0)
    if sys.argv[1] in ("clock", "storage"):
        alert(sys.argv[2], sys.argv[1])
        sys.exit(0)
    cmd, url, log = sys.argv[1:4]
    if cmd == "run":
        run(url, log, float(sys.argv[4]))
    elif cmd == "verify":
        sys.exit(0 if verify(url, log) else 1)
    elif cmd == "verify-kept":
        sys.exit(0 if verify(url, log, issue_new=False) else 1)
    else:
        sys.exit(f"traffic: unknown command {cmd}")
