#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: secrets (issue 5, item 5).

- The secrets file is created 0600, and refused (exit 1, a message with
  the chmod to run) once group or others can read it.
- An inline client_secret in a group/world-readable config is refused
  (exit 2) by check and sync alike.
- Tokens, the client secret, authorization codes and cover URL signatures
  never appear in anything the program printed (at -v, through auth, two
  syncs with a token rotation, a failing sync, status, videos) or wrote
  (the mirror database and its -wal/-shm, the covers): the emulator puts a
  marker into every token it issues and the client secret carries one too.
- TLS verification cannot be turned off, and a server whose certificate is
  not trusted (https api_url without ca_file) fails with a certificate
  error and state 'error'.
"""
import json
import os
import re
import stat
import subprocess
import unittest

import harness
from harness import BIN, Emulator, Mirror
from checks import files_under

MARKER = "CANARYtok7f3e"
SECRET = "CANARYsecret9a1c-client-secret"


class SecretsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.emu.config(token_marker=MARKER, client_secret=SECRET,
                       rate_limit=0)
        cls.m = Mirror(cls.emu, https=True)
        for n in ("alice", "bob"):
            cls.emu.add_user(n)
            cls.emu.generate(n, 25, seed=len(n), formats=["jpeg", "webp"])
        cls.m.write_config([{"name": "alice", "quantity": "all"},
                            {"name": "bob", "quantity": 5}])
        cls.outputs = []    # everything the program printed

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def run_bin(self, *args, check=None):
        p = self.m.run(*args)
        self.outputs.append(("%s" % (args,), p.stdout + p.stderr))
        if check is not None:
            self.assertEqual(p.returncode, check, p.stderr)
        return p

    def needles(self):
        """What must never leak: the marker in every token the emulator
        issued, the client secret, URL signatures, auth headers."""
        return [MARKER, SECRET, "x-signature", "x-expires=",
                "Authorization:", "Bearer "]

    def test_1_auth_and_modes(self):
        rc, out, err = self.m.auth_loopback("alice", "alice")
        self.outputs.append(("auth alice", out + err))
        self.assertEqual(rc, 0, err)
        p = self.m.auth_code("bob", "bob")
        self.outputs.append(("auth bob", p.stdout + p.stderr))
        self.assertEqual(p.returncode, 0, p.stderr)
        secrets = os.path.join(self.m.dir, "secrets.db")
        self.assertEqual(stat.S_IMODE(os.stat(secrets).st_mode), 0o600)
        self.run_bin("-v", "sync", check=0)
        for f in os.listdir(self.m.dir):
            if f.startswith("secrets.db"):
                self.assertEqual(
                    stat.S_IMODE(os.stat(os.path.join(self.m.dir,
                                                      f)).st_mode), 0o600)
        for mode in (0o644, 0o640, 0o604, 0o660):
            with self.subTest(mode=oct(mode)):
                os.chmod(secrets, mode)
                before = files_under(self.m.dir)
                p = self.run_bin("sync", check=1)
                self.assertIn("chmod 600 %s" % secrets, p.stderr)
                self.assertIn("%04o" % mode, p.stderr)
                self.assertEqual(stat.S_IMODE(os.stat(secrets).st_mode),
                                 mode)
                self.assertEqual(files_under(self.m.dir), before)
        os.chmod(secrets, 0o600)
        self.run_bin("sync", check=0)

    def test_2_rotation_and_failures_leak_nothing(self):
        # A token rotation (expired access token, 401, refresh), a
        # failing refresh, a failing data call, all at -v.
        self.emu.expire_tokens("alice")
        self.emu.expire_tokens("bob")
        self.emu.update_video("alice", self.emu.videos("alice")[0]["id"],
                              new_cover=True)
        self.run_bin("-v", "sync", check=0)
        self.assertEqual(self.emu.counters()["oauth"]["refresh_token"], 2)
        self.emu.expire_tokens("bob")
        self.emu.fault("/v2/oauth/token/", "oauth_error", user="bob",
                       error="invalid_grant")
        self.emu.fault("/v2/video/list/", "status", status=401, user="alice",
                       times=-1)
        p = self.run_bin("-v", "sync", check=1)
        self.emu.clear_faults()
        self.assertEqual(self.m.account("bob")["state"], "needs_auth")
        self.assertIn("tiktok-mirror auth bob", self.m.account("bob")[
            "last_error"])
        self.assertEqual(self.m.account("alice")["state"], "error")
        self.run_bin("status", check=None)
        self.run_bin("status", "--json", check=None)
        self.run_bin("videos", "alice", "--json", check=0)
        self.run_bin("videos", "bob", "--tsv", check=0)
        self.run_bin("-v", "check", check=0)
        # Re-authorize bob so the rest of the file has two accounts.
        p = self.m.auth_code("bob", "bob")
        self.outputs.append(("auth bob again", p.stdout + p.stderr))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.run_bin("-v", "sync", check=0)

    def test_3_nothing_leaked(self):
        needles = self.needles()
        for what, text in self.outputs:
            for n in needles:
                self.assertNotIn(n, text, what)
        # Everything written beside the config except the secrets file and
        # the files the test itself put there.
        for rel, kind in files_under(self.m.dir).items():
            if kind != "file" or rel.startswith("secrets.db") or \
                    rel in ("client_secret", "tiktok-mirror.yaml"):
                continue
            with open(os.path.join(self.m.dir, rel), "rb") as f:
                blob = f.read()
            for n in needles:
                self.assertNotIn(n.encode(), blob, rel)
        # The tokens are in the secrets file, so the markers are real.
        with open(os.path.join(self.m.dir, "secrets.db"), "rb") as f:
            self.assertIn(MARKER.encode(), f.read())
        self.assertGreater(len(self.outputs), 8)

    def test_4_inline_secret_modes(self):
        with open(self.m.config) as f:
            text = f.read()
        inline = text.replace("client_secret_file: client_secret",
                              'client_secret: "%s"' % SECRET)
        path = os.path.join(self.m.dir, "inline.yaml")
        with open(path, "w") as f:
            f.write(inline)
        for mode, want in ((0o644, 2), (0o640, 2), (0o604, 2), (0o620, 2),
                           (0o600, 0), (0o400, 0)):
            os.chmod(path, mode)
            for cmd in ("check", "sync"):
                if cmd == "sync" and want == 0:
                    continue
                with self.subTest(mode=oct(mode), cmd=cmd):
                    p = subprocess.run([BIN, "-c", path, cmd],
                                       capture_output=True, text=True,
                                       timeout=60, stdin=subprocess.DEVNULL)
                    self.assertEqual(p.returncode, want, p.stderr)
                    if want:
                        self.assertRegex(p.stderr, r"%s:\d+:\d+: " %
                                         re.escape(path))
                        self.assertIn("chmod 600", p.stderr)
                    self.assertNotIn(SECRET, p.stdout + p.stderr)
        os.unlink(path)

    def test_5_tls_cannot_be_turned_off(self):
        p = subprocess.run([BIN, "--help"], capture_output=True, text=True,
                           timeout=30)
        self.assertNotIn("insecure", (p.stdout + p.stderr).lower())
        with open(self.m.config) as f:
            text = f.read()
        for key in ("insecure: true", "ssl_verify: false",
                    "verify_tls: false", "tls_verify: false"):
            with self.subTest(key=key):
                with open(self.m.config, "w") as f:
                    f.write(text.replace("app:\n", "app:\n  %s\n" % key))
                p = self.m.run("check")
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("unknown", p.stderr.lower())
        # Without ca_file the emulator's certificate is not trusted.
        with open(self.m.config, "w") as f:
            f.write(text.replace("  ca_file: ca.pem\n", ""))
        try:
            before = self.m.sql("SELECT * FROM videos ORDER BY account, id")
            self.emu.reset_counters()
            p = self.m.run("sync", "alice")
            self.assertEqual(p.returncode, 1, p.stderr)
            a = self.m.account("alice")
            self.assertEqual(a["state"], "error")
            self.assertIn("certificate", a["last_error"])
            self.assertIn("certificate", p.stderr)
            self.assertEqual(self.m.sql("SELECT * FROM videos ORDER BY "
                                        "account, id"), before)
            # Refused at the handshake: no request reached the server,
            # and a certificate error is not worth retrying.
            self.assertEqual(self.emu.counters()["paths"], {})
        finally:
            with open(self.m.config, "w") as f:
                f.write(text)
        p = self.m.run("sync", "alice")
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    harness.main()
