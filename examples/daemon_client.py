#!/usr/bin/env python3
"""A client of `session-cli daemon` using only Python's standard library (docs/daemon.md).

  daemon_client.py SOCKET send 05... "text"     queue a message; print its hash, then wait for
                                                its sendStatus "stored" (or "failed"/"expired")
  daemon_client.py SOCKET listen [--state FILE]  print every incoming message once, acknowledging
                                                each; FILE keeps the last seq processed, so a
                                                restarted listener resumes exactly there
"""
import json
import os
import socket
import sys


class Daemon:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        # Separate reader and writer: a text file open for both drops what it read ahead on a write.
        self.rfile = self.sock.makefile("r", encoding="utf-8", newline="\n")
        self.wfile = self.sock.makefile("w", encoding="utf-8", newline="\n")
        self.next_id = 0
        self.pending_events = []

    def _read(self):
        line = self.rfile.readline()
        if not line:
            raise ConnectionError("the daemon closed the connection")
        return json.loads(line)

    def call(self, method, **params):
        self.next_id += 1
        req = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        self.wfile.write(json.dumps(req) + "\n")
        self.wfile.flush()
        while True:
            msg = self._read()
            if msg.get("method") == "event":
                self.pending_events.append(msg["params"])
                continue
            if msg.get("id") != self.next_id:
                continue
            if "error" in msg:
                err = msg["error"]
                raise RuntimeError(f"{method}: error {err['code']}: {err['message']}")
            return msg["result"]

    def events(self):
        while True:
            while self.pending_events:
                yield self.pending_events.pop(0)
            msg = self._read()
            if msg.get("method") == "event":
                yield msg["params"]


def send(d, recipient, text):
    # Subscribed before sending, so the status events of this message cannot be missed; older
    # events replayed meanwhile are skipped by hash.
    d.call("subscribe", since=0)
    result = d.call("send", recipient=recipient, message=text, attachments=[])
    print(result["hash"], flush=True)
    for ev in d.events():
        if ev["type"] == "sendStatus" and ev["hash"] == result["hash"] and ev["status"] != "queued":
            print(ev["status"], ev.get("error", ""), flush=True)
            return 0 if ev["status"] == "stored" else 1


def listen(d, state):
    since = 0
    if state and os.path.exists(state):
        with open(state) as f:
            since = int(f.read().strip() or 0)
    d.call("subscribe", since=since)
    for ev in d.events():
        if ev["type"] == "message":
            print(json.dumps({"seq": ev["seq"], "sender": ev["sender"], "body": ev["body"],
                              "timestamp": ev["timestamp"], "hash": ev["hash"]}, ensure_ascii=False), flush=True)
        if state:  # processed: remember it before acknowledging
            tmp = state + ".tmp"
            with open(tmp, "w") as f:
                f.write(str(ev["seq"]))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, state)
        d.call("ack", seq=ev["seq"])


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    d = Daemon(argv[1])
    if argv[2] == "send" and len(argv) == 5:
        return send(d, argv[3], argv[4])
    if argv[2] == "listen":
        state = argv[4] if len(argv) == 5 and argv[3] == "--state" else None
        return listen(d, state)
    if argv[2] == "version":
        print(d.call("version"))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(130)
