#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: TikTok as it really is (issue 12).

- Pasted codes: `auth NAME --code CODE` takes the code as the address bar
  shows it (percent-encoded: real codes hold '*' and '!') and decoded.
  When TikTok refuses a code, the message says why it may have and that
  the pending authorization is still valid, with the URL that gives a
  fresh code; a fresh code from it then completes the same authorization.
- Scopes: a grant without video.list (unticked on the consent page) is
  refused by `auth` at once and nothing is saved; a consent that fails
  with invalid_scope (the app is not approved for a scope) says which
  product and scope to enable.
- video/query and private videos: with the emulator's query_private
  switch off, a video made private is judged deleted (deleted_at set,
  every value and the cover kept) and comes back when made public again.
"""
import os
import re
import subprocess
import time
import unittest
import urllib.parse

import harness
from harness import Emulator, Mirror, command

T0 = 1760000000


def raw_query(url):
    """The query of 'url' as (name, raw value) pairs, not decoded."""
    q = urllib.parse.urlsplit(url).query
    return dict(p.split("=", 1) for p in q.split("&") if "=" in p)


def mirror_one(cls, user, count, seed, quantity=20, **emu_config):
    """Class fixture: an emulator, and 'user' authorized and mirrored
    once as account 'user'."""
    cls.emu = Emulator().start()
    cls.emu.config(rate_limit=0, **emu_config)
    cls.m = Mirror(cls.emu, https=False)
    cls.emu.add_user(user)
    cls.emu.generate(user, count, newest=T0, step=3600, seed=seed)
    cls.m.write_config([{"name": user, "quantity": quantity}])
    for args in (("auth_code", user, user), ("run", "sync")):
        p = getattr(cls.m, args[0])(*args[1:])
        if p.returncode != 0:
            raise AssertionError(p.stderr)


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.emu.reset()
        self.m = Mirror(self.emu, https=False)
        self.addCleanup(self.m.cleanup)
        self.emu.add_user("alice", "Alice")
        self.emu.generate("alice", 3, newest=T0, step=3600, seed=1)
        self.m.write_config([{"name": "brand"}])

    def start_auth(self, name="brand"):
        """`auth NAME` until it printed the URL, then stopped (a server
        without a browser); returns the authorize URL."""
        p = subprocess.Popen(command("-c", self.m.config, "auth", name),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
        try:
            url = self.m._read_url(p)
        finally:
            p.terminate()
            p.wait(10)
            p.stdout.close()
            p.stderr.close()
        return url

    def browser(self, url):
        """The browser approves: the Location it is sent to."""
        r = self.emu.http("GET", url)
        self.assertEqual(r.status, 302, r.body)
        return r.header("Location")

    def test_code_percent_encoded(self):
        self.emu.login("alice")
        loc = self.browser(self.start_auth())
        raw = raw_query(loc)["code"]
        # The address bar's form: '*' and '!' escaped.
        self.assertIn("%2A", raw)
        self.assertIn("%21", raw)
        p = self.m.run("auth", "brand", "--code", raw)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("brand: authorized", p.stdout)
        p = self.m.run("sync", "brand")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.m.videos("brand")), 3)

    def test_code_decoded(self):
        self.emu.login("alice")
        loc = self.browser(self.start_auth())
        code = urllib.parse.unquote(raw_query(loc)["code"])
        self.assertIn("*", code)
        self.assertIn("!", code)
        p = self.m.run("auth", "brand", "--code", code)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_code_not_bare(self):
        self.emu.login("alice")
        loc = self.browser(self.start_auth())
        p = self.m.run("auth", "brand", "--code", loc)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--redirect-url", p.stderr)
        # The usage mistake spent nothing: the address itself still works.
        p = self.m.run("auth", "brand", "--redirect-url", loc)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_code_refused_honestly(self):
        self.emu.login("alice")
        url = self.start_auth()
        code = raw_query(self.browser(url))["code"]
        p = self.m.run("auth", "brand", "--code", code)
        self.assertEqual(p.returncode, 0, p.stderr)
        # Success used up the pending authorization, and says so.
        p = self.m.run("auth", "brand", "--code", code)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no pending authorization", p.stderr)

        # A refused code while the authorization is still pending.
        url = self.start_auth()
        self.browser(url)  # a code the user never copied
        p = self.m.run("auth", "brand", "--code", "Wrong%2A1%210000.va")
        self.assertEqual(p.returncode, 1)
        self.assertIn("invalid_grant", p.stderr)
        self.assertIn("the pending authorization is still valid until",
                      p.stderr)
        self.assertNotIn("start again", p.stderr.split("still valid")[0])
        m = re.search(r"(https?://\S+/v2/auth/authorize/\S+)", p.stderr)
        self.assertIsNotNone(m, p.stderr)
        again = m.group(1)
        self.assertEqual(raw_query(again)["state"], raw_query(url)["state"])
        # That URL gives a fresh code which completes the same flow.
        code = raw_query(self.browser(again))["code"]
        p = self.m.run("auth", "brand", "--code", code)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_scope_unticked_loopback(self):
        self.emu.login("alice", scopes=["user.info.basic"])
        loc = self.browser(self.start_auth())
        p = self.m.run("auth", "brand", "--redirect-url", loc)
        self.assertEqual(p.returncode, 1)
        self.assertIn("lacks the scope video.list", p.stderr)
        self.assertIn("granted: user.info.basic", p.stderr)
        self.assertIn("nothing was saved", p.stderr)
        p = self.m.run("sync", "brand")
        self.assertEqual(p.returncode, 1)
        self.assertIn("not authorized yet", p.stderr)

    def test_invalid_scope_at_consent(self):
        # The app is approved for Login Kit only (no Display API).
        self.emu.config(approved_scopes=["user.info.basic"])
        self.emu.login("alice")
        loc = self.browser(self.start_auth())
        self.assertIn("error=invalid_scope", loc)
        p = self.m.run("auth", "brand", "--redirect-url", loc)
        self.assertEqual(p.returncode, 1)
        self.assertIn("invalid_scope", p.stderr)
        self.assertIn("Display API product", p.stderr)
        self.assertIn("video.list", p.stderr)


class PrivateQueryTest(unittest.TestCase):
    """video/query not returning private videos (query_private off)."""

    @classmethod
    def setUpClass(cls):
        mirror_one(cls, "priv", 8, 5, quantity="all", query_private=False)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def row(self, vid):
        return self.m.sql("SELECT * FROM videos WHERE account = 'priv' AND "
                          "id = ?", vid)[0]

    def test_private_judged_deleted_then_restored(self):
        truth = self.emu.videos("priv")
        hidden = truth[2]
        before = self.row(hidden["id"])
        self.assertEqual(before["position"], 3)
        self.emu.hide_videos("priv", [hidden["id"]])
        t0 = int(time.time())
        p = self.m.run("sync", "priv")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("1 deleted", p.stderr)
        r = self.row(hidden["id"])
        # Indistinguishable from a deletion: deleted_at, position NULL,
        # every value and the cover file kept.
        self.assertGreaterEqual(r["deleted_at"], t0)
        self.assertIsNone(r["position"])
        for k, v in before.items():
            if k not in ("position", "deleted_at"):
                self.assertEqual(r[k], v, k)
        self.assertTrue(os.path.isfile(os.path.join(self.m.covers,
                                                    r["cover"])))
        pos = [x["position"] for x in self.m.sql(
            "SELECT position FROM videos WHERE account = 'priv' AND "
            "position IS NOT NULL ORDER BY position")]
        self.assertEqual(pos, list(range(1, 8)))
        # Public again: restored at its place.
        self.emu.unhide_videos("priv", [hidden["id"]])
        p = self.m.run("sync", "priv")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.row(hidden["id"])
        self.assertIsNone(r["deleted_at"])
        self.assertEqual(r["position"], 3)


class RefusedTest(unittest.TestCase):
    """Deterministic answers (invalid_params, a 200 carrying an error
    code) fail the refresh at once: sending the same request again would
    get the same answer."""

    @classmethod
    def setUpClass(cls):
        mirror_one(cls, "ref", 5, 6)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def lists(self):
        return self.emu.counters()["paths"].get("/v2/video/list/", 0)

    def check_refused(self, status, code):
        rows = self.m.videos("ref")
        self.emu.reset_counters()
        self.emu.fault("/v2/video/list/", "status", status=status,
                       code=code, times=-1)
        try:
            p = self.m.run("sync", "ref")
        finally:
            self.emu.clear_faults()
        self.assertEqual(p.returncode, 1)
        self.assertIn("TikTok refused the request", p.stderr)
        self.assertIn(code, p.stderr)
        self.assertEqual(self.lists(), 1)
        self.assertEqual(self.m.videos("ref"), rows)
        self.assertEqual(self.m.account("ref")["state"], "error")

    def test_invalid_params_not_retried(self):
        self.check_refused(400, "invalid_params")

    def test_http200_error_code_not_retried(self):
        self.check_refused(200, "spam_risk_too_many_posts")


if __name__ == "__main__":
    harness.main()
