# SPDX-License-Identifier: ISC
"""Shared pieces of the end-to-end tests: the binary under test, a
scratch folder with a config pointing at the emulator, running commands,
authorizing accounts as a browser would, and reading the mirror.

The binary is $TM_BIN (set by `make test`), else build/tiktok-mirror.
"""
import hashlib
import json
import os
import re
import queue
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import shutil
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))

from emu import Emulator  # noqa: E402

BIN = os.environ.get("TM_BIN") or os.path.join(ROOT, "build", "tiktok-mirror")
# With TM_VALGRIND=1 (make valgrind) every command runs under memcheck.
VALGRIND = ["valgrind", "-q", "--leak-check=full", "--error-exitcode=99",
            "--errors-for-leak-kinds=definite,indirect"] \
    if os.environ.get("TM_VALGRIND") == "1" else []


def command(*args):
    """The argv that runs the binary under test with 'args'."""
    return VALGRIND + [BIN] + list(args)
EXT = {"jpeg": "jpg", "jpg": "jpg", "png": "png", "webp": "webp"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Mirror:
    """A scratch folder with a config for the emulator and the binary."""

    def __init__(self, emu, https=True, folder=None):
        self.emu = emu
        if folder is None:
            self.dir = tempfile.mkdtemp(prefix="tiktok-mirror-e2e-")
        else:
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder)
            self.dir = os.path.abspath(folder)
        self.https = https
        self.port = free_port()
        self.redirect = "http://127.0.0.1:%d/callback/" % self.port
        emu.config(redirect_uris=[self.redirect])
        self.config = os.path.join(self.dir, "tiktok-mirror.yaml")
        self.db = os.path.join(self.dir, "mirror.db")
        self.covers = os.path.join(self.dir, "covers")
        # 0600: a client_secret_file others can read is refused.
        fd = os.open(os.path.join(self.dir, "client_secret"),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(emu.config_now()["client_secret"] + "\n")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self, accounts, **app):
        url = self.emu.https_url if self.https else self.emu.http_url
        lines = ["app:",
                 '  client_key: "%s"' % self.emu.config_now()["client_key"],
                 "  client_secret_file: client_secret",
                 '  redirect_uri: "%s"' % self.redirect,
                 "  api_url: %s" % url,
                 "  auth_url: %s/v2/auth/authorize/" % url]
        if self.https:
            # A copy, so the config stays valid after the emulator is gone.
            shutil.copy(self.emu.ca, os.path.join(self.dir, "ca.pem"))
            lines.append("  ca_file: ca.pem")
        for k, v in app.items():
            lines.append("  %s: %s" % (k, v))
        lines.append("accounts:")
        for a in accounts:
            lines.append("  - name: %s" % a["name"])
            for k, v in a.items():
                if k != "name":
                    lines.append("    %s: %s" % (k, v))
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def run(self, *args, timeout=120, check=None, env=None):
        """Run the binary; returns CompletedProcess (text)."""
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        if env:
            e.update(env)
        p = subprocess.run(command("-c", self.config, *args),
                           capture_output=True, text=True, timeout=timeout,
                           env=e, stdin=subprocess.DEVNULL)
        if check is not None and p.returncode != check:
            raise AssertionError("%s exited %d, not %d\nstdout:\n%s\n"
                                 "stderr:\n%s" % (args, p.returncode, check,
                                                  p.stdout, p.stderr))
        return p

    def auth_loopback(self, name, user):
        """`auth NAME`, the browser following the authorize URL to the
        loopback listener. Returns (exit status, stdout, stderr)."""
        self.emu.login(user)
        p = subprocess.Popen(command("-c", self.config, "auth", name),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
        try:
            url = self._read_url(p)
            r = self.emu.http("GET", url)
            assert r.status == 302, r.status
            loc = r.header("Location")
            assert loc.startswith(self.redirect), loc
            # A forged redirect with a foreign state is refused first.
            forged = re.sub(r"state=[^&]*", "state=forged", loc)
            assert self._browser_get(forged)[0] == 400
            status, body = self._browser_get(loc)
            assert status == 200, (status, body)
            p.wait(60)
            out, err = "", p.stderr.read()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        return p.returncode, out, err

    def pending_code(self, name, user, raw=False):
        """`auth NAME`, interrupted (a server without a browser); 'user'
        approves in the browser. Returns the code: URL-decoded, or with
        raw=True as the address bar shows it (percent-encoded)."""
        self.emu.login(user)
        p = subprocess.Popen(command("-c", self.config, "auth", name),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
        try:
            url = self._read_url(p)
        finally:
            p.terminate()
            p.wait(10)
            p.stdout.close()
            p.stderr.close()
        r = self.emu.http("GET", url)
        assert r.status == 302, r.status
        query = urllib.parse.urlsplit(r.header("Location")).query
        if raw:
            return dict(kv.split("=", 1) for kv in query.split("&"))["code"]
        return urllib.parse.parse_qs(query)["code"][0]

    def auth_code(self, name, user):
        """`auth NAME`, interrupted; then `auth NAME --code CODE`."""
        return self.run("auth", name, "--code", self.pending_code(name, user))

    @staticmethod
    def _read_url(p, timeout=15):
        """Read `auth` output until the listener is ready; return the URL.
        A thread reads, so a silent process cannot hang the test."""
        lines = queue.Queue()

        def reader():
            for line in p.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=reader, daemon=True).start()
        deadline = time.monotonic() + timeout
        buf, url = "", None
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            buf += line
            m = re.search(r"(https?://\S+/v2/auth/authorize/\S+)", line)
            if m:
                url = m.group(1)
            if url and ("Waiting" in line or "--redirect-url" in line):
                return url
        raise AssertionError("auth printed no URL:\n" + buf)

    def _browser_get(self, url):
        u = urllib.parse.urlsplit(url)
        s = socket.create_connection((u.hostname, u.port), timeout=10)
        path = u.path + ("?" + u.query if u.query else "")
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                   "\r\n" % (path, u.netloc)).encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), body.decode("utf-8", "replace")

    def sql(self, query, *args):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute(query, args)]
        finally:
            con.close()

    def videos(self, account):
        return self.sql("SELECT * FROM videos WHERE account = ? "
                        "ORDER BY created_at DESC, id DESC", account)

    def account(self, name):
        rows = self.sql("SELECT * FROM accounts WHERE name = ?", name)
        return rows[0] if rows else None

    def cover_sha(self, rel):
        with open(os.path.join(self.covers, rel), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()


def expected_rows(truth, before_ms=None, start=1, quantity=20):
    """The kept slice of the emulator's truth (newest first)."""
    vids = [v for v in truth
            if before_ms is None or v["create_time"] * 1000 < before_ms]
    vids = vids[start - 1:]
    if quantity != "all":
        vids = vids[:quantity]
    return vids


def main():
    unittest.main(verbosity=2)
