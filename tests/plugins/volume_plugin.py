#!/usr/bin/env python3
"""A Docker volume plugin (legacy protocol) written for berth's tests.

It serves volumes as directories under its own root (ROOT/volumes/NAME/_data), keeps its
state (options, mount references by caller ID) in ROOT/state.json so a restarted plugin
remembers them, and appends every call it receives to LOG as one JSON line:
{"method": "VolumeDriver.Mount", "body": {...}}. Used by berth's e2e tests and by the
conformance comparison against dockerd, which drive the same plugin.

Behaviour the tests rely on:
  - Create accepts only the options `size`, `fail`, `mount_delay` and `mount_fail`; any other key is
    refused with {"Err": "unknown option KEY"}. `fail=TEXT` makes Create fail with TEXT.
  - `mount_delay=SECONDS` makes Mount sleep that long before answering (to kill it mid-mount).
  - `mount_fail=TEXT` makes every Mount of the volume fail with TEXT.
  - Mount/Unmount count references per caller ID; Remove is refused while any remain.
  - Get's Status carries {"refs": N, "opts": {...}}.

usage: volume_plugin.py --socket PATH --root DIR --log FILE [--scope local|global]
"""

import argparse
import json
import os
import shutil
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

MIME = "application/vnd.docker.plugins.v1.2+json"
ALLOWED_OPTS = {"size", "fail", "mount_delay", "mount_fail"}


class State:
    def __init__(self, root, log, scope):
        self.root = root
        self.log_path = log
        self.scope = scope
        self.lock = threading.Lock()
        self.path = os.path.join(root, "state.json")
        os.makedirs(os.path.join(root, "volumes"), exist_ok=True)
        try:
            with open(self.path) as f:
                self.volumes = json.load(f)
        except FileNotFoundError:
            self.volumes = {}

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.volumes, f)
        os.replace(tmp, self.path)

    def log(self, method, body):
        with open(self.log_path, "a") as f:
            f.write(json.dumps({"method": method, "body": body}, sort_keys=True) + "\n")
            f.flush()

    def data(self, name):
        return os.path.join(self.root, "volumes", name, "_data")

    def handle(self, method, req):
        name = req.get("Name") if isinstance(req, dict) else None
        if method == "Plugin.Activate":
            return {"Implements": ["VolumeDriver"]}
        if method == "VolumeDriver.Capabilities":
            return {"Capabilities": {"Scope": self.scope}}
        if method == "VolumeDriver.Create":
            opts = req.get("Opts") or {}
            for k in sorted(opts):
                if k not in ALLOWED_OPTS:
                    return {"Err": "unknown option %s" % k}
            if "fail" in opts:
                return {"Err": opts["fail"]}
            if name not in self.volumes:
                os.makedirs(self.data(name), exist_ok=True)
                self.volumes[name] = {"opts": opts, "refs": []}
                self.save()
            return {"Err": ""}
        if method == "VolumeDriver.List":
            return {
                "Volumes": [
                    {"Name": n, "Mountpoint": self.data(n)} for n in sorted(self.volumes)
                ],
                "Err": "",
            }
        v = self.volumes.get(name)
        if v is None:
            return {"Err": "no such volume"}
        if method == "VolumeDriver.Get":
            return {
                "Volume": {
                    "Name": name,
                    "Mountpoint": self.data(name),
                    "Status": {"refs": len(v["refs"]), "opts": v["opts"]},
                },
                "Err": "",
            }
        if method == "VolumeDriver.Path":
            return {"Mountpoint": self.data(name), "Err": ""}
        if method == "VolumeDriver.Remove":
            if v["refs"]:
                return {"Err": "volume %s is in use" % name}
            shutil.rmtree(os.path.join(self.root, "volumes", name), ignore_errors=True)
            del self.volumes[name]
            self.save()
            return {"Err": ""}
        if method == "VolumeDriver.Mount":
            if "mount_fail" in v["opts"]:
                return {"Err": v["opts"]["mount_fail"]}
            delay = float(v["opts"].get("mount_delay", "0"))
            if delay:
                self.lock.release()
                try:
                    time.sleep(delay)
                finally:
                    self.lock.acquire()
            v["refs"].append(req.get("ID", ""))
            self.save()
            return {"Mountpoint": self.data(name), "Err": ""}
        if method == "VolumeDriver.Unmount":
            caller = req.get("ID", "")
            if caller not in v["refs"]:
                return {"Err": "volume %s is not mounted by %s" % (name, caller)}
            v["refs"].remove(caller)
            self.save()
            return {"Err": ""}
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "unix"

    def do_POST(self):
        method = self.path.lstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            req = json.loads(raw) if raw.strip() else None
        except ValueError:
            req = None
        state = self.server.state
        with state.lock:
            state.log(method, req)
            out = state.handle(method, req)
        if out is None:
            self.send_response(404)
            body = b"404 page not found\n"
            self.send_header("Content-Type", "text/plain")
        else:
            code = 500 if out.get("Err") else 200
            self.send_response(code)
            body = json.dumps(out).encode()
            self.send_header("Content-Type", MIME)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--scope", default="local")
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.socket), exist_ok=True)
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    srv = Server(args.socket, Handler)
    srv.state = State(args.root, args.log, args.scope)
    print("ready", flush=True)
    try:
        srv.serve_forever()
    finally:
        try:
            os.unlink(args.socket)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    sys.exit(main())
