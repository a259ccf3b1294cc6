#!/usr/bin/env python3
"""Talks to a virtual Pi's QEMU monitor (QMP on a unix socket): what the hall test does to the
machine's screen, touch screen and power.

    qmp.py SOCKET screendump OUT.ppm     the screen as it is now (PPM)
    qmp.py SOCKET tap X Y W H            a finger on the touch screen at pixel (X, Y) of a W×H screen
    qmp.py SOCKET status                 prints the machine's run state
    qmp.py SOCKET stop | cont            pauses the machine (its CPU and clocks stand still) / resumes it
"""
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.buf = b""
        self.read()  # the greeting
        self.call("qmp_capabilities")

    def read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("qmp: the monitor closed the connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def call(self, command, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self.read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise SystemExit(f"qmp: {command}: {reply['error'].get('desc')}")
            return reply.get("return")


def abs_event(axis, value):
    return {"type": "abs", "data": {"axis": axis, "value": value}}


def main():
    path, command, *args = sys.argv[1:]
    q = Qmp(path)
    if command == "screendump":
        q.call("screendump", filename=args[0])
    elif command == "tap":
        x, y, w, h = (int(a) for a in args)
        # The tablet's axes run 0..32767 over the whole screen.
        ax, ay = x * 32767 // max(w - 1, 1), y * 32767 // max(h - 1, 1)
        q.call("input-send-event", events=[abs_event("x", ax), abs_event("y", ay)])
        q.call("input-send-event", events=[{"type": "btn", "data": {"down": True, "button": "left"}}])
        time.sleep(0.15)
        q.call("input-send-event", events=[{"type": "btn", "data": {"down": False, "button": "left"}}])
    elif command in ("stop", "cont"):
        q.call(command)
    elif command == "status":
        print(q.call("query-status")["status"])
    else:
        raise SystemExit(f"qmp: unknown command {command}")


if __name__ == "__main__":
    main()
