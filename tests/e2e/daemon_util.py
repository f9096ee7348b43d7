# SPDX-License-Identifier: ISC
"""Helpers for the end-to-end tests of `tiktok-mirror run`: a datagram
listener standing in for systemd's $NOTIFY_SOCKET, the daemon as a child
process with its log in a file, and bounded waiting.

Every wait here has a deadline; Daemon.kill() never leaves a process
behind (SIGKILL after a grace period), so tests call it from tearDown.
Under memcheck (TM_VALGRIND=1) every deadline is SLOW times longer.
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import harness


def command(*args):
    """argv for the binary under test (under memcheck with TM_VALGRIND=1,
    when the harness knows how)."""
    if hasattr(harness, "command"):
        return harness.command(*args)
    return [harness.BIN] + list(args)


VALGRIND = os.environ.get("TM_VALGRIND") == "1"
SLOW = 10 if VALGRIND else 1


def wait_until(fn, timeout, interval=0.05, what="condition"):
    """Poll fn() until it returns a true value (returned), or fail after
    timeout seconds (times SLOW)."""
    timeout *= SLOW
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


class NotifyListener:
    """An AF_UNIX datagram socket at a path, as systemd binds for
    Type=notify; a thread records (monotonic time, fields) per datagram,
    fields being the message's KEY=VALUE lines as a list of pairs."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.msgs = []
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.done:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            t = time.monotonic()
            fields = []
            for line in data.decode("utf-8", "replace").split("\n"):
                if line:
                    k, _, v = line.partition("=")
                    fields.append((k, v))
            with self.lock:
                self.msgs.append((t, fields))

    def close(self):
        self.done = True
        self.thread.join(2)
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def messages(self):
        with self.lock:
            return list(self.msgs)

    def times(self, key, value=None):
        """Arrival times of datagrams holding KEY (=value)."""
        return [t for t, f in self.messages()
                if any(k == key and (value is None or v == value)
                       for k, v in f)]

    def values(self, key):
        return [v for _, f in self.messages() for k, v in f if k == key]

    def count(self, key, value=None):
        return len(self.times(key, value))

    def wait(self, key, value=None, timeout=10, after=0):
        """Wait for a datagram with KEY (=value) beyond the first `after`
        ones; returns its arrival time."""
        return wait_until(lambda: self.count(key, value) > after and
                          self.times(key, value)[after], timeout,
                          what="%s=%s on NOTIFY_SOCKET" % (key, value))


class Daemon:
    """`tiktok-mirror -c CONFIG run` as a child. stderr goes to a file
    (never a pipe that could fill and block the daemon)."""

    def __init__(self, mirror, env=None, notify=None, watchdog_usec=None,
                 min_cache=None, journal=False, args=()):
        self.mirror = mirror
        e = dict(os.environ)
        for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC",
                  "WATCHDOG_PID", "STATE_DIRECTORY",
                  "TIKTOK_MIRROR_TEST_MIN_CACHE", "TIKTOK_MIRROR_CONFIG"):
            e.pop(k, None)
        if notify is not None:
            e["NOTIFY_SOCKET"] = notify.path
        if watchdog_usec is not None:
            e["WATCHDOG_USEC"] = str(watchdog_usec)
        if min_cache is not None:
            e["TIKTOK_MIRROR_TEST_MIN_CACHE"] = str(min_cache)
        n = 0
        while True:
            self.log_path = os.path.join(mirror.dir, "run-%d.log" % n)
            if not os.path.exists(self.log_path):
                break
            n += 1
        self.logf = open(self.log_path, "wb")
        if journal:
            # As systemd sets it: the device and inode of stderr.
            st = os.fstat(self.logf.fileno())
            e["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        if env:
            e.update(env)
        self.env = e
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            command("-c", mirror.config, *args, "run"),
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf,
            env=e)
        self.pid = self.proc.pid
        self.exited_at = None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def lines(self):
        return [ln for ln in self.log().split("\n") if ln]

    def wait_log(self, pattern, timeout=10, count=1):
        """Wait until pattern (a regex) matches `count` log lines."""
        rx = re.compile(pattern)
        return wait_until(
            lambda: len([ln for ln in self.lines() if rx.search(ln)])
            >= count, timeout, what="log line /%s/ x%d in:\n%s"
            % (pattern, count, self.log()[-3000:]))

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, timeout):
        """Wait for exit; returns the status (AssertionError on timeout)."""
        timeout *= SLOW
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("daemon still running after %.1f s; log:\n%s"
                                 % (timeout, self.log()[-3000:]))
        if self.exited_at is None:
            self.exited_at = time.monotonic()
        return rc

    def stop(self, timeout=5):
        """SIGTERM; returns (exit status, seconds it took)."""
        t0 = time.monotonic()
        self.signal(signal.SIGTERM)
        rc = self.wait(timeout)
        return rc, time.monotonic() - t0

    def kill(self):
        """For tearDown: end it whatever happens, never leave it behind."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self.logf.closed:
            self.logf.close()


def list_calls(emu, user):
    """video/list requests the emulator has seen for user."""
    return emu.counters()["by_user"].get(user, {}).get("/v2/video/list/", 0)


def integrity(db):
    import sqlite3
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()
