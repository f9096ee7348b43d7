#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: curated accounts (design.md, "Curated accounts (no TikTok
app)"). A config whose accounts only list videos needs no TikTok app; each
listed video is read through the emulator's public oEmbed endpoint, in list
order, with covers cached like any other. Checked here: the rows and
covers of a first sync, an unchanged refresh (one oEmbed call per video, no
cover, no row written), reordering and shortening the list, a video that
goes private (refused twice: deleted) and comes back, the mass-deletion
guard, a 5xx round and a non-video body (failed refresh, rows kept), and
what auth and status say about an account that needs no grant."""
import json
import os
import shutil
import signal
import unittest

import harness
from harness import Emulator, Mirror, EXT
from daemon_util import Daemon


class CuratedBase(unittest.TestCase):
    """A fresh emulator state and mirror per test."""

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        emu = self.emu
        emu.reset()
        self.m = Mirror(emu, https=True)
        emu.add_user("scout", "Scout, Suki & Stella")
        emu.add_user("brand", "Brand \U0001F3B5")
        # Ids generated from the creation time, as TikTok's are.
        emu.add_videos("scout", [
            {"create_time": 1700000000, "title": "a title",
             "video_description": "Pasta night #recipe \U0001F35D"},
            {"create_time": 1700086400, "title": "only a title",
             "cover_format": "png"},
            {"create_time": 1700172800,
             "video_description": 'quotes "x" & <b>tags</b>',
             "cover_format": "webp"}])
        emu.add_videos("brand", [
            {"create_time": 1690000000, "video_description": "Brand one"},
            {"create_time": 1690086400, "video_description": "Brand two"}])
        self.truth = {}
        for user in ("scout", "brand"):
            for v in emu.videos(user):
                self.truth[v["id"]] = dict(v, user=user)
        self.ids = sorted(self.truth, key=lambda i: self.truth[i]
                          ["create_time"])
        shutil.copy(emu.ca, os.path.join(self.m.dir, "ca.pem"))

    def tearDown(self):
        self.m.cleanup()

    def hide(self, vids, hidden=True):
        for vid in vids:
            user = self.truth[vid]["user"]
            if hidden:
                self.emu.hide_videos(user, [vid])
            else:
                self.emu.unhide_videos(user, [vid])

    def url(self, vid, suffix=""):
        return self.emu.video_url(self.truth[vid]["user"], vid) + suffix

    def write(self, lists, app=True, extra=""):
        """Curated accounts name -> [video URL], and optionally an app."""
        lines = ["app:"]
        if app:
            lines += ['  client_key: "%s"' %
                      self.emu.config_now()["client_key"],
                      "  client_secret_file: client_secret",
                      '  redirect_uri: "%s"' % self.m.redirect,
                      "  api_url: %s" % self.emu.https_url]
        lines += ["  oembed_url: %s/oembed" % self.emu.https_url,
                  "  ca_file: ca.pem"]
        lines.append("accounts:")
        for name, urls in lists.items():
            lines.append("  - name: %s" % name)
            lines.append("    videos:")
            lines += ["      - %s" % json.dumps(u) for u in urls]
        with open(self.m.config, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)

    def rows(self, name="picks"):
        return {r["id"]: r for r in self.m.videos(name)}

    def listing(self, name="picks"):
        return [r["id"] for r in self.m.sql(
            "SELECT id FROM my_videos WHERE account = ? ORDER BY position",
            name)]

    def sync(self, *args, check=0):
        return self.m.run("sync", *args, check=check)

    def counters(self):
        c = self.emu.counters()["paths"]
        return {k: n for k, n in c.items() if not k.startswith("/_emu/")}


class FirstSyncTest(CuratedBase):
    def test_first_sync_and_unchanged_refresh(self):
        m, emu = self.m, self.emu
        order = [self.ids[3], self.ids[0], self.ids[4]]
        listed = [self.url(order[0], "?is_from_webapp=1&sender_device=pc"),
                  self.url(order[1]), self.url(order[2], "/")]
        # Only curated accounts: no client key, secret or redirect URI.
        self.write({"picks": listed}, app=False)
        os.remove(os.path.join(m.dir, "client_secret"))
        p = m.run("check", check=0)
        self.assertIn("configuration OK", p.stdout + p.stderr)
        p = m.run("auth", "picks", check=0)
        self.assertIn("needs no authorization", p.stdout)
        p = m.run("status", check=1)
        self.assertIn("run: tiktok-mirror sync picks", p.stdout)

        emu.reset_counters()
        p = self.sync()
        self.assertIn("3 listed (3 new, 0 updated, 0 deleted), 3 covers "
                      "fetched, 6 requests", p.stderr)
        # One oEmbed call per video and its cover; no Display API at all.
        self.assertEqual(self.counters(), {"/oembed": 3, "/cdn/": 3})
        rows = self.rows()
        self.assertEqual(set(rows), set(order))
        for pos, (vid, url) in enumerate(zip(order, listed), 1):
            r, v = rows[vid], self.truth[vid]
            self.assertEqual(r["position"], pos)
            self.assertEqual(r["title"], v["video_description"] or
                             v["title"])
            self.assertEqual(r["description"], "")
            self.assertEqual(r["embed_html"], v["embed_html"])
            self.assertEqual(r["embed_link"],
                             "https://www.tiktok.com/player/v1/" + vid)
            self.assertEqual(r["share_url"], url)
            # The creation second TikTok puts in the id's top 32 bits.
            self.assertEqual(r["created_at"], int(vid) >> 32)
            self.assertEqual(r["created_at"], v["create_time"])
            for col in ("duration", "width", "height", "total_views",
                        "total_likes", "total_comments", "total_shares",
                        "deleted_at"):
                self.assertIsNone(r[col], col)
            self.assertEqual(r["cover"], "picks/%s.%s" % (
                vid, EXT[v["cover_format"]]))
            self.assertEqual(m.cover_sha(r["cover"]), v["cover_sha256"])
        acct = m.account("picks")
        self.assertEqual(acct["state"], "ok")
        # The account is named after its first video's author.
        self.assertEqual(acct["display_name"], "Scout, Suki & Stella")
        self.assertIsNone(acct["token_expires_at"])
        self.assertIsNone(acct["refresh_expires_at"])
        self.assertIsNone(acct["open_id"])
        # Readers see the same listing as for any account.
        out = json.loads(m.run("videos", "picks", "--json",
                               check=0).stdout)
        self.assertEqual([v["id"] for v in out], order)
        p = m.run("status", check=0)
        self.assertIn("not needed", p.stdout)
        st = json.loads(m.run("status", "--json", check=0).stdout)
        self.assertIsNone(st["accounts"][0]["token_expires_at"])
        self.assertIsNone(st["accounts"][0]["warning"])
        # The table shows unknown views as unknown, not 0.
        table = m.run("videos", "picks", "--table", check=0).stdout
        for vid in order:
            line = [ln for ln in table.split("\n") if vid in ln][0]
            self.assertEqual(line.split()[3], "-", line)

        # Unchanged: one oEmbed call per video (each answer signs the
        # thumbnail anew), no cover fetched, no row written.
        before = m.sql("SELECT * FROM videos ORDER BY id")
        mtimes = {vid: os.stat(os.path.join(m.covers, rows[vid]["cover"]))
                  .st_mtime_ns for vid in order}
        emu.reset_counters()
        p = self.sync()
        self.assertIn("3 listed (0 new, 0 updated, 0 deleted), 0 covers "
                      "fetched, 3 requests", p.stderr)
        self.assertEqual(self.counters(), {"/oembed": 3})
        self.assertEqual(m.sql("SELECT * FROM videos ORDER BY id"), before)
        run = m.sql("SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual((run["requests"], run["new"], run["updated"],
                          run["deleted"]), (3, 0, 0, 0))
        for vid in order:
            self.assertEqual(os.stat(os.path.join(
                m.covers, rows[vid]["cover"])).st_mtime_ns, mtimes[vid])

    def test_changed_video_and_cover(self):
        """A changed caption updates the row; a new cover path refetches."""
        vid = self.ids[0]
        self.write({"picks": [self.url(vid)]}, app=False)
        self.sync()
        self.emu.update_video(self.truth[vid]["user"], vid,
                              video_description="New caption",
                              new_cover=True)
        self.emu.reset_counters()
        p = self.sync()
        self.assertIn("(0 new, 1 updated, 0 deleted), 1 covers fetched",
                      p.stderr)
        r = self.rows()[vid]
        self.assertEqual(r["title"], "New caption")
        state = self.emu.videos(self.truth[vid]["user"])
        sha = [v for v in state if v["id"] == vid][0]["cover_sha256"]
        self.assertEqual(self.m.cover_sha(r["cover"]), sha)


class ListTest(CuratedBase):
    def test_reorder_and_shorten(self):
        a, b, c, d = self.ids[0], self.ids[1], self.ids[2], self.ids[3]
        self.write({"picks": [self.url(a), self.url(b), self.url(c)]})
        self.sync()
        self.assertEqual(self.listing(), [a, b, c])
        # Reordered: positions follow the list; nothing else changes.
        self.write({"picks": [self.url(c), self.url(a), self.url(b)]})
        p = self.sync()
        self.assertIn("(0 new, 0 updated, 0 deleted)", p.stderr)
        self.assertEqual(self.listing(), [c, a, b])
        # Shortened and extended: the dropped video keeps its row, out of
        # the listing (position NULL), not deleted.
        self.write({"picks": [self.url(d), self.url(c)]})
        p = self.sync()
        self.assertIn("(1 new, 0 updated, 0 deleted)", p.stderr)
        self.assertEqual(self.listing(), [d, c])
        rows = self.rows()
        for vid in (a, b):
            self.assertIsNone(rows[vid]["position"])
            self.assertIsNone(rows[vid]["deleted_at"])
            self.assertTrue(os.path.exists(os.path.join(
                self.m.covers, rows[vid]["cover"])))
        out = json.loads(self.m.run("videos", "picks", "--json",
                                    check=0).stdout)
        self.assertEqual([v["id"] for v in out], [d, c])
        # Listed again: back in place.
        self.write({"picks": [self.url(a), self.url(d)]})
        self.sync()
        self.assertEqual(self.listing(), [a, d])

    def test_filters(self):
        """hide skips a listed video without asking oEmbed; include and
        exclude judge the caption oEmbed gives as the title."""
        a, b, c = self.ids[2], self.ids[3], self.ids[4]
        self.assertIn("#recipe", self.truth[a]["video_description"])
        self.write({"picks": [self.url(a), self.url(b), self.url(c)]},
                   app=False)
        with open(self.m.config, "a") as f:
            f.write('    hide: ["%s"]\n    exclude: ["#recipe"]\n' % c)
        p = self.sync("--dry-run")
        self.assertIn("hidden %s (" % c, p.stdout)
        self.assertIn('hidden %s (' % a, p.stdout)
        self.assertIn('"#recipe"', p.stdout)
        self.emu.reset_counters()
        self.sync()
        # The hidden video is not even asked about.
        self.assertEqual(self.counters(), {"/oembed": 2, "/cdn/": 1})
        self.assertEqual(self.listing(), [b])
        self.assertEqual(set(self.rows()), {b})
        # Lifted: both come back, in the list's order.
        self.write({"picks": [self.url(a), self.url(b), self.url(c)]},
                   app=False)
        self.sync()
        self.assertEqual(self.listing(), [a, b, c])

    def test_mixed_with_app_account(self):
        """Beside an account with a grant, a curated one needs none."""
        vid = self.ids[0]
        self.write({"picks": [self.url(vid)]},
                   extra="  - name: brand\n")
        p = self.sync(check=1)
        self.assertIn("brand: not authorized yet", p.stderr)
        self.assertEqual(self.listing(), [vid])
        self.assertEqual(self.m.account("brand")["state"], "needs_auth")


class SwitchTest(CuratedBase):
    def test_full_account_becomes_curated(self):
        """The rows of an account with a grant stay when it becomes
        curated; its own counts are kept, the token columns cleared, and
        revoke says the app is gone rather than failing."""
        m = self.m
        m.write_config([{"name": "picks"}])
        m.auth_code("picks", "scout")
        self.sync()
        own = {r["id"]: r for r in m.videos("picks")}
        self.assertEqual(len(own), 3)
        keep, other = self.ids[4], self.ids[0]
        self.assertIn(keep, own)
        self.write({"picks": [self.url(keep), self.url(other)]}, app=False)
        p = self.sync()
        self.assertIn("2 listed (1 new, 1 updated, 0 deleted)", p.stderr)
        rows = self.rows()
        self.assertEqual(self.listing(), [keep, other])
        # Nothing blanked: the counts and sizes TikTok gave stay.
        for col in ("total_views", "total_likes", "duration", "width"):
            self.assertEqual(rows[keep][col], own[keep][col], col)
        self.assertEqual(rows[keep]["description"], "")
        self.assertEqual(rows[keep]["share_url"], self.url(keep))
        # The videos no longer listed keep their rows, out of the listing.
        for vid in set(own) - {keep}:
            self.assertIsNone(rows[vid]["position"])
            self.assertIsNone(rows[vid]["deleted_at"])
        acct = m.account("picks")
        self.assertIsNone(acct["token_expires_at"])
        self.assertIsNone(acct["refresh_expires_at"])
        p = m.run("revoke", "picks", check=2)
        self.assertIn("configuration has no app: any more", p.stderr)


class DaemonTest(CuratedBase):
    def test_run_and_reload(self):
        """`run` schedules a curated account like any other; a reload with
        a new list (while the old configuration is freed) is followed."""
        a, b, c = self.ids[0], self.ids[2], self.ids[4]
        self.write({"picks": [self.url(a), self.url(b)]}, app=False)
        d = Daemon(self.m)
        try:
            d.wait_log(r"picks: 2 listed \(2 new", timeout=20)
            self.assertEqual(self.listing(), [a, b])
            self.write({"picks": [self.url(c), self.url(a)]}, app=False)
            d.signal(signal.SIGHUP)
            d.wait_log(r"picks: settings changed")
            d.wait_log(r"picks: 2 listed \(1 new", timeout=20)
            self.assertEqual(self.listing(), [c, a])
            self.assertIsNone(self.rows()[b]["position"])
            rc, _ = d.stop()
            self.assertEqual(rc, 0)
        finally:
            d.kill()


class UnavailableTest(CuratedBase):
    def test_private_and_back(self):
        m, emu = self.m, self.emu
        a, b, c = self.ids[0], self.ids[1], self.ids[3]
        self.assertEqual(self.truth[b]["video_description"], "Brand two")
        self.write({"picks": [self.url(a), self.url(b), self.url(c)]},
                   app=False)
        self.sync()
        cover_b = self.rows()[b]["cover"]
        self.hide([b])
        # Refused once: out of the listing, not deleted; the refresh is ok.
        p = self.sync()
        self.assertIn("video %s: oEmbed refused it (HTTP 400" % b, p.stderr)
        self.assertIn("2 listed (0 new, 0 updated, 0 deleted)", p.stderr)
        self.assertEqual(self.listing(), [a, c])
        self.assertIsNone(self.rows()[b]["deleted_at"])
        self.assertEqual(m.account("picks")["state"], "ok")
        # The dry run says what the second refusal will do.
        p = self.sync("--dry-run")
        self.assertIn("mark 1 deleted", p.stdout)
        self.assertIn("refused %s HTTP 400, again" % b, p.stdout)
        self.assertIn("deleted %s" % b, p.stdout)
        self.assertIsNone(self.rows()[b]["deleted_at"])
        # Refused twice in a row: deleted, its values and cover kept.
        p = self.sync()
        self.assertIn("(0 new, 0 updated, 1 deleted)", p.stderr)
        r = self.rows()[b]
        self.assertIsNotNone(r["deleted_at"])
        self.assertIsNone(r["position"])
        self.assertEqual(r["title"], "Brand two")
        self.assertEqual(r["cover"], cover_b)
        self.assertTrue(os.path.exists(os.path.join(m.covers, cover_b)))
        # Refused again: nothing more happens.
        p = self.sync()
        self.assertIn("(0 new, 0 updated, 0 deleted)", p.stderr)
        # Back: restored, in its place.
        self.hide([b], False)
        p = self.sync("--dry-run")
        self.assertIn("restore 1", p.stdout)
        self.sync()
        self.assertIsNone(self.rows()[b]["deleted_at"])
        self.assertEqual(self.listing(), [a, b, c])
        kinds = [r["kind"] for r in m.sql(
            "SELECT kind FROM changes WHERE id = ? ORDER BY rowid", b)]
        self.assertEqual(kinds, ["new", "deleted", "restored"])

    def test_refused_once_then_back(self):
        """A single refusal never deletes: the next answer counts anew."""
        a, b = self.ids[0], self.ids[1]
        self.write({"picks": [self.url(a), self.url(b)]}, app=False)
        self.sync()
        self.hide([a])
        self.sync()
        self.hide([a], False)
        self.sync()
        self.hide([a])
        self.sync()
        self.assertIsNone(self.rows()[a]["deleted_at"])
        self.assertEqual(self.listing(), [b])

    def test_guard(self):
        m, emu = self.m, self.emu
        vids = self.ids[:4]
        self.write({"picks": [self.url(v) for v in vids]}, app=False)
        self.sync()
        # Three of four refused twice: more than half, refused.
        self.hide(self.ids[:3])
        self.sync()
        before = m.sql("SELECT * FROM videos ORDER BY id")
        p = self.sync(check=1)
        self.assertIn("refusing to mark 3 of 4 live videos deleted", p.stderr)
        self.assertIn("sync --force picks", p.stderr)
        self.assertEqual(m.sql("SELECT * FROM videos ORDER BY id"), before)
        self.assertEqual(m.account("picks")["state"], "error")
        p = self.sync("--force", "picks")
        self.assertIn("3 deleted", p.stderr)
        self.assertEqual(self.listing(), [vids[3]])


class FailureTest(CuratedBase):
    def test_5xx_round_and_bad_body(self):
        m, emu = self.m, self.emu
        a, b = self.ids[0], self.ids[3]
        self.write({"picks": [self.url(a), self.url(b)]}, app=False)
        self.sync()
        before = m.sql("SELECT * FROM videos ORDER BY id")
        # A short outage is retried with backoff, like the Display API.
        emu.fault("/oembed", "status", status=503, times=2)
        emu.reset_counters()
        p = self.sync()
        self.assertIn("(0 new, 0 updated, 0 deleted), 0 covers fetched, "
                      "4 requests", p.stderr)
        # A 5xx round: the refresh fails and keeps every row.
        emu.fault("/oembed", "status", status=503, times=-1)
        p = self.sync(check=1)
        self.assertIn("oEmbed, video %s: HTTP 503 (after 4 attempts)" % a,
                      p.stderr)
        self.assertEqual(m.sql("SELECT * FROM videos ORDER BY id"), before)
        acct = m.account("picks")
        self.assertEqual(acct["state"], "error")
        self.assertIn("HTTP 503", acct["last_error"])
        emu.clear_faults()
        # A 200 that is not a video object is no refusal either.
        emu.fault("/oembed", "invalid_json", variant="html", times=-1)
        p = self.sync(check=1)
        self.assertIn("the answer is not JSON", p.stderr)
        self.assertEqual(m.sql("SELECT * FROM videos ORDER BY id"), before)
        emu.clear_faults()
        # Neither counted as a refusal: back to ok, nothing deleted.
        p = self.sync()
        self.assertIn("2 listed (0 new, 0 updated, 0 deleted)", p.stderr)
        self.assertEqual(self.listing(), [a, b])
        self.assertEqual(m.account("picks")["state"], "ok")


if __name__ == "__main__":
    harness.main()
