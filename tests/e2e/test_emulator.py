#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End-to-end checks of the TikTok API emulator itself (tests/emulator.py),
driven over HTTP and HTTPS the way the daemon will drive it."""
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from emu import Emulator, EmulatorError, pkce_pair  # noqa: E402

EMU = None
REDIRECT = "http://127.0.0.1:8723/callback/"
ALL_VIDEO_FIELDS = ["id", "create_time", "cover_image_url", "share_url",
                    "video_description", "duration", "height", "width",
                    "title", "embed_html", "embed_link", "like_count",
                    "comment_count", "share_count", "view_count"]


def setUpModule():
    global EMU
    EMU = Emulator().start()


def tearDownModule():
    pid = EMU.pid
    EMU.stop()
    # The emulator must be gone, not left behind.
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError("emulator pid %d still alive" % pid)


def conn(https=False, timeout=5.0):
    if https:
        return http.client.HTTPSConnection(
            "127.0.0.1", EMU.https_port, timeout=timeout,
            context=EMU.ssl_context)
    return http.client.HTTPConnection("127.0.0.1", EMU.http_port,
                                      timeout=timeout)


def raw_request(request_bytes, timeout=5.0, port=None):
    """Send bytes on a fresh socket; return everything read until EOF."""
    s = socket.create_connection(("127.0.0.1", port or EMU.http_port),
                                 timeout=timeout)
    try:
        s.sendall(request_bytes)
        out = b""
        for _ in range(100000):
            d = s.recv(65536)
            if not d:
                break
            out += d
        return out
    finally:
        s.close()


class Base(unittest.TestCase):
    def setUp(self):
        EMU.reset()
        EMU.add_user("alice", "Alice")
        EMU.login("alice")

    def token(self, user="alice", scope="user.info.basic,video.list"):
        return EMU.oauth(user, scope)

    def list_page(self, tok, cursor=None, max_count=20, fields=None,
                  https=False):
        body = {"max_count": max_count}
        if cursor is not None:
            body["cursor"] = cursor
        return EMU.api("POST", "/v2/video/list/", tok,
                       fields or ["id", "create_time"], body, https)


class OAuthTest(Base):
    def test_full_flow(self):
        verifier, challenge = pkce_pair()
        self.assertEqual(len(challenge), 64)
        url = EMU.authorize_url(challenge=challenge, state="st&=ü")
        r = EMU.http("GET", url)
        self.assertEqual(r.status, 302)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(REDIRECT + "?"), loc)
        raw_query = urllib.parse.urlsplit(loc).query
        # The code carries '*' and '!', so it arrives percent-encoded.
        self.assertIn("%2A", raw_query)
        self.assertIn("%21", raw_query)
        q = dict(urllib.parse.parse_qsl(raw_query))
        self.assertEqual(q["state"], "st&=ü")
        self.assertEqual(q["scopes"], "user.info.basic,video.list")
        code = q["code"]
        self.assertIn("*", code)

        # Wrong verifier: invalid_request, HTTP 200, code still usable.
        st, body = EMU.token(grant_type="authorization_code", code=code,
                             redirect_uri=REDIRECT,
                             code_verifier=verifier + "x")
        self.assertEqual(st, 200)
        self.assertEqual(body["error"], "invalid_request")
        self.assertEqual(body["error_description"],
                         "Code verifier or code challenge is invalid.")
        self.assertIn("log_id", body)
        # base64url (RFC 7636) instead of hex is also wrong.
        st, body = EMU.token(grant_type="authorization_code", code=code,
                             redirect_uri=REDIRECT)
        self.assertEqual(body["error"], "invalid_request")
        # Redirect URI must be identical.
        st, body = EMU.token(grant_type="authorization_code", code=code,
                             redirect_uri=REDIRECT + "x",
                             code_verifier=verifier)
        self.assertEqual(body["error"], "invalid_request")

        st, tok = EMU.token(grant_type="authorization_code", code=code,
                            redirect_uri=REDIRECT, code_verifier=verifier)
        self.assertEqual(st, 200, tok)
        self.assertEqual(set(tok), {"access_token", "expires_in", "open_id",
                                    "refresh_expires_in", "refresh_token",
                                    "scope", "token_type"})
        self.assertTrue(tok["access_token"].startswith("act."))
        self.assertTrue(tok["refresh_token"].startswith("rft."))
        self.assertEqual(tok["expires_in"], 86400)
        self.assertEqual(tok["refresh_expires_in"], 31536000)
        self.assertEqual(tok["token_type"], "Bearer")
        self.assertEqual(tok["scope"], "user.info.basic,video.list")
        users = EMU.get("/_emu/users")
        self.assertEqual(tok["open_id"], users["alice"]["open_id"])

        # Single use.
        st, body = EMU.token(grant_type="authorization_code", code=code,
                             redirect_uri=REDIRECT, code_verifier=verifier)
        self.assertEqual((st, body["error"]), (200, "invalid_grant"))
        self.assertEqual(body["error_description"],
                         "Authorization code is expired.")

        # Refresh: rotation, remaining refresh lifetime.
        EMU.advance(100)
        st, tok2 = EMU.token(grant_type="refresh_token",
                             refresh_token=tok["refresh_token"])
        self.assertEqual(st, 200, tok2)
        self.assertNotEqual(tok2["refresh_token"], tok["refresh_token"])
        self.assertNotEqual(tok2["access_token"], tok["access_token"])
        self.assertTrue(31535890 <= tok2["refresh_expires_in"] <= 31535900,
                        tok2["refresh_expires_in"])
        st, body = EMU.token(grant_type="refresh_token",
                             refresh_token=tok["refresh_token"])
        self.assertEqual(st, 200)
        self.assertEqual(body["error"], "invalid_grant")
        # Old access token still valid until its own expiry; new one too.
        for t in (tok["access_token"], tok2["access_token"]):
            st, body = EMU.api("GET", "/v2/user/info/", t, ["open_id"])
            self.assertEqual(st, 200, body)
        # Newest refresh token works once more.
        st, tok3 = EMU.token(grant_type="refresh_token",
                             refresh_token=tok2["refresh_token"])
        self.assertIn("access_token", tok3)

        # OAuth errors as HTTP 400 when asked to.
        EMU.config(oauth_error_status=400)
        st, body = EMU.token(grant_type="refresh_token",
                             refresh_token=tok["refresh_token"])
        self.assertEqual((st, body["error"]), (400, "invalid_grant"))

        c = EMU.counters()
        self.assertEqual(c["oauth"]["authorization_code"], 5)
        self.assertEqual(c["oauth"]["refresh_token"], 4)
        st = EMU.state()
        self.assertNotIn(tok3["access_token"], json.dumps(st))
        self.assertNotIn(tok3["refresh_token"], json.dumps(st))
        self.assertEqual(st["grants"][0]["user"], "alice")

    def test_client_and_grant_errors(self):
        q = EMU.authorize()
        st, body = EMU.token(grant_type="authorization_code", code=q["code"],
                             redirect_uri=REDIRECT, client_secret="nope")
        self.assertEqual(body["error"], "invalid_client")
        st, body = EMU.token(grant_type="password")
        self.assertEqual(body["error"], "unsupported_grant_type")
        # Codes expire.
        EMU.advance(301)
        st, body = EMU.token(grant_type="authorization_code", code=q["code"],
                             redirect_uri=REDIRECT)
        self.assertEqual(body["error"], "invalid_grant")

    def test_same_rotation_and_refresh_expiry(self):
        EMU.config(rotation="same", refresh_ttl=1000, access_ttl=60)
        tok = self.token()
        self.assertEqual(tok["expires_in"], 60)
        EMU.advance(400)
        st, tok2 = EMU.token(grant_type="refresh_token",
                             refresh_token=tok["refresh_token"])
        self.assertEqual(tok2["refresh_token"], tok["refresh_token"])
        self.assertTrue(598 <= tok2["refresh_expires_in"] <= 600)
        EMU.advance(601)
        st, body = EMU.token(grant_type="refresh_token",
                             refresh_token=tok["refresh_token"])
        self.assertEqual(body["error"], "invalid_grant")

    def test_revoke(self):
        tok = self.token()
        cfg = EMU.config()
        r = EMU.http("POST", "/v2/oauth/revoke/", form={
            "client_key": cfg["client_key"],
            "client_secret": cfg["client_secret"],
            "token": tok["access_token"]})
        self.assertEqual((r.status, r.json()), (200, {}))
        st, body = EMU.api("GET", "/v2/user/info/", tok["access_token"],
                           ["open_id"])
        self.assertEqual((st, body["error"]["code"]),
                         (401, "access_token_invalid"))
        st, body = EMU.token(grant_type="refresh_token",
                             refresh_token=tok["refresh_token"])
        self.assertEqual(body["error"], "invalid_grant")
        r = EMU.http("POST", "/v2/oauth/revoke/", form={
            "client_key": cfg["client_key"],
            "client_secret": cfg["client_secret"], "token": "act.unknown"})
        self.assertIn("error", r.json())
        # Control-side revoke.
        tok = self.token()
        EMU.revoke("alice")
        st, body = EMU.token(grant_type="refresh_token",
                             refresh_token=tok["refresh_token"])
        self.assertEqual(body["error"], "invalid_grant")
        self.assertTrue(EMU.state()["grants"][-1]["revoked"])

    def test_authorize_errors(self):
        r = EMU.http("GET", EMU.authorize_url(scope="video.list,video.upload"))
        self.assertEqual(r.status, 302)
        q = dict(urllib.parse.parse_qsl(
            urllib.parse.urlsplit(r.header("Location")).query))
        self.assertEqual(q["error"], "invalid_scope")
        self.assertEqual(q["state"], "state-1")
        r = EMU.http("GET", EMU.authorize_url(
            redirect_uri="http://127.0.0.1:9/other/"))
        self.assertEqual(r.status, 400)
        r = EMU.http("GET", EMU.authorize_url(client_key="wrong"))
        self.assertEqual(r.status, 400)
        url = EMU.authorize_url(challenge="abc").replace("S256", "plain")
        r = EMU.http("GET", url)
        self.assertIn("error=invalid_request", r.header("Location"))
        EMU.login("alice", deny=True)
        r = EMU.http("GET", EMU.authorize_url())
        self.assertIn("error=access_denied", r.header("Location"))
        EMU.login("alice", scopes=["video.list"])
        q = EMU.authorize()
        self.assertEqual(q["scopes"], "video.list")
        EMU.ctl("/_emu/login", {"user": None})
        r = EMU.http("GET", EMU.authorize_url())
        self.assertEqual(r.status, 400)
        # Wildcard-port redirect URIs, as desktop apps register them.
        EMU.config(redirect_uris=["http://127.0.0.1:*/callback/"])
        EMU.login("alice")
        q = EMU.authorize(redirect_uri="http://127.0.0.1:45678/callback/")
        self.assertIn("code", q)


class DataTest(Base):
    def test_user_info(self):
        tok = self.token()["access_token"]
        st, body = EMU.api("GET", "/v2/user/info/", tok,
                           ["open_id", "display_name", "avatar_url"])
        self.assertEqual(st, 200)
        self.assertEqual(body["error"]["code"], "ok")
        self.assertEqual(body["error"]["message"], "")
        u = body["data"]["user"]
        self.assertEqual(set(u), {"open_id", "display_name", "avatar_url"})
        self.assertEqual(u["display_name"], "Alice")
        r = EMU.http("GET", u["avatar_url"])
        self.assertEqual(r.body[:3], b"\xff\xd8\xff")
        st, body = EMU.api("GET", "/v2/user/info/", tok)
        self.assertEqual((st, body["error"]["code"]), (400, "invalid_params"))
        # Real error bodies have no "data" member.
        self.assertNotIn("data", body)
        self.assertEqual(set(body["error"]), {"code", "message", "log_id"})
        # A field outside the granted scopes: 401 scope_not_authorized,
        # as the real API answered (not 400 scope_permission_missed).
        for f in ("follower_count", "username"):
            st, body = EMU.api("GET", "/v2/user/info/", tok, [f])
            self.assertEqual((st, body["error"]["code"]),
                             (401, "scope_not_authorized"))
            self.assertNotIn("data", body)
        st, body = EMU.api("GET", "/v2/user/info/", tok, ["nonsense"])
        self.assertEqual((st, body["error"]["code"]), (400, "invalid_params"))
        st, body = EMU.api("GET", "/v2/user/info/", "act.bogus", ["open_id"])
        self.assertEqual((st, body["error"]["code"]),
                         (401, "access_token_invalid"))
        r = EMU.http("GET", "/v2/user/info/?fields=open_id")
        self.assertEqual(r.status, 401)
        tok = self.token(scope="video.list")["access_token"]
        st, body = EMU.api("GET", "/v2/user/info/", tok, ["open_id"])
        self.assertEqual((st, body["error"]["code"]),
                         (401, "scope_not_authorized"))

    def test_paging_45(self):
        EMU.generate("alice", 45, newest=1750000000, step=3600, seed=7)
        tok = self.token()["access_token"]
        truth = [v["id"] for v in EMU.videos("alice")]
        self.assertEqual(len(truth), 45)
        seen, sizes, cursors, cursor = [], [], [], None
        for _ in range(10):
            st, body = self.list_page(tok, cursor, 20)
            self.assertEqual(st, 200, body)
            d = body["data"]
            sizes.append(len(d["videos"]))
            for v in d["videos"]:
                self.assertEqual(set(v), {"id", "create_time"})
                seen.append(v["id"])
            cursors.append(d["cursor"])
            if not d["has_more"]:
                break
            cursor = d["cursor"]
        self.assertEqual(sizes, [20, 20, 5])
        self.assertTrue(cursors[0] > cursors[1] > cursors[2], cursors)
        self.assertEqual(seen, truth)
        # The cursor is the last returned video's millisecond timestamp.
        st_videos = EMU.videos("alice")
        self.assertEqual(cursors[0], st_videos[19]["ts"])
        self.assertEqual(st_videos[19]["create_time"],
                         st_videos[19]["ts"] // 1000)
        # Default page size 10; a custom "before" cursor.
        st, body = EMU.api("POST", "/v2/video/list/", tok, ["id"], {})
        self.assertEqual(len(body["data"]["videos"]), 10)
        st, body = self.list_page(tok, st_videos[40]["ts"], 20)
        self.assertEqual([v["id"] for v in body["data"]["videos"]],
                         truth[41:])
        # All fields, and only them.
        st, body = self.list_page(tok, None, 1, ALL_VIDEO_FIELDS)
        v = body["data"]["videos"][0]
        self.assertEqual(set(v), set(ALL_VIDEO_FIELDS))
        sv = st_videos[0]
        for k in ALL_VIDEO_FIELDS:
            if k != "cover_image_url":
                self.assertEqual(v[k], sv[k], k)
        self.assertEqual(len(v["id"]), 19)
        self.assertIn("utm_source=awtestclientkey0", v["share_url"])
        self.assertIn("/@alice/video/" + v["id"], v["share_url"])
        self.assertIn('data-video-id="%s"' % v["id"], v["embed_html"])
        # Bad parameters.
        for bad in ({"max_count": 21}, {"max_count": 0},
                    {"max_count": "5"}, {"cursor": "x"}):
            st, body = EMU.api("POST", "/v2/video/list/", tok, ["id"], bad)
            self.assertEqual((st, body["error"]["code"]),
                             (400, "invalid_params"), bad)
        st, body = EMU.api("POST", "/v2/video/list/", tok, ["id", "color"],
                           {})
        self.assertEqual((st, body["error"]["code"]), (400, "invalid_params"))
        st, body = EMU.api("POST", "/v2/video/list/", tok, None, {})
        self.assertEqual((st, body["error"]["code"]), (400, "invalid_params"))
        tok2 = self.token(scope="user.info.basic")["access_token"]
        st, body = EMU.api("POST", "/v2/video/list/", tok2, ["id"], {})
        self.assertEqual((st, body["error"]["code"]),
                         (401, "scope_not_authorized"))

    def test_pinned_first(self):
        """Pinned videos come first on the first page and again at their
        place; later pages are not affected."""
        EMU.generate("alice", 30, newest=1750000000, step=3600, seed=3)
        truth = [v["id"] for v in EMU.videos("alice")]
        EMU.ctl("/_emu/videos/pin", {"user": "alice",
                                     "ids": [truth[25], truth[12]]})
        tok = self.token()["access_token"]
        st, body = self.list_page(tok, None, 20)
        d = body["data"]
        ids = [v["id"] for v in d["videos"]]
        self.assertEqual(ids, [truth[25], truth[12]] + truth[:18])
        self.assertTrue(d["has_more"])
        st, body = self.list_page(tok, d["cursor"], 20)
        self.assertEqual([v["id"] for v in body["data"]["videos"]],
                         truth[18:])
        with self.assertRaises(EmulatorError):
            EMU.ctl("/_emu/videos/pin", {"user": "alice",
                                         "ids": truth[:4]})

    def test_inclusive_cursor(self):
        """cursor_inclusive: a page starts with the previous page's last
        video again."""
        EMU.generate("alice", 25, newest=1750000000, step=3600, seed=4)
        truth = [v["id"] for v in EMU.videos("alice")]
        EMU.config(cursor_inclusive=True)
        tok = self.token()["access_token"]
        st, body = self.list_page(tok, None, 20)
        self.assertEqual([v["id"] for v in body["data"]["videos"]],
                         truth[:20])
        st, body = self.list_page(tok, body["data"]["cursor"], 20)
        self.assertEqual([v["id"] for v in body["data"]["videos"]],
                         truth[19:])
        self.assertFalse(body["data"]["has_more"])

    def test_query_private(self):
        """query_private false: video/query omits a video made private,
        as it omits an unknown one."""
        EMU.add_videos("alice", [
            {"id": "7000000000000000011", "create_time": 1700000000}])
        EMU.hide_videos("alice", ["7000000000000000011"])
        tok = self.token()["access_token"]
        q = {"filters": {"video_ids": ["7000000000000000011"]}}
        st, body = EMU.api("POST", "/v2/video/query/", tok, ["id"], q)
        self.assertEqual(len(body["data"]["videos"]), 1)
        EMU.config(query_private=False)
        st, body = EMU.api("POST", "/v2/video/query/", tok, ["id"], q)
        self.assertEqual((st, body["data"]["videos"]), (200, []))

    def test_rate_window(self):
        """A 429 without Retry-After until the (shortened) window has
        passed; the body has no data member."""
        EMU.config(rate_limit=2, rate_window=2)
        tok = self.token()["access_token"]
        got = [EMU.api("GET", "/v2/user/info/", tok, ["open_id"])
               for _ in range(3)]
        self.assertEqual([g[0] for g in got], [200, 200, 429])
        self.assertEqual(got[2][1]["error"]["code"], "rate_limit_exceeded")
        self.assertNotIn("data", got[2][1])
        r = EMU.http("GET", "/v2/user/info/?fields=open_id",
                     headers={"Authorization": "Bearer " + tok})
        self.assertEqual(r.status, 429)
        self.assertIsNone(r.header("Retry-After"))
        EMU.advance(2.5)
        st, body = EMU.api("GET", "/v2/user/info/", tok, ["open_id"])
        self.assertEqual(st, 200)

    def test_approved_scopes(self):
        """A scope the app is not approved for fails the whole consent."""
        EMU.config(approved_scopes=["user.info.basic"])
        EMU.login("alice")
        q = EMU.authorize()
        self.assertEqual(q["error"], "invalid_scope")
        self.assertNotIn("code", q)
        EMU.config(approved_scopes=None)
        self.assertIn("code", EMU.authorize())

    def test_empty_account(self):
        tok = self.token()["access_token"]
        r = EMU.http("POST", "/v2/video/list/?fields=id", json_body={},
                     headers={"Authorization": "Bearer " + tok})
        body = r.json()
        self.assertEqual(body["data"], {"cursor": 0, "has_more": False,
                                        "videos": []})
        self.assertEqual(body["error"]["code"], "ok")

    def test_query_and_lifecycle(self):
        vids = EMU.add_videos("alice", [
            {"id": "7000000000000000001", "create_time": 1700000000},
            {"id": "7000000000000000002", "create_time": 1700000100,
             "title": "two"},
            {"id": "7000000000000000003", "create_time": 1700000200},
            {"create_time": 1700000200}])
        self.assertEqual(vids[3]["ts"], 1700000200001)  # ms bumped
        self.assertEqual(len(vids[3]["id"]), 19)
        tok = self.token()["access_token"]
        ids = ["7000000000000000002", "123", "7000000000000000001"]
        st, body = EMU.api("POST", "/v2/video/query/", tok, ["id", "title"],
                           {"filters": {"video_ids": ids}})
        self.assertEqual(st, 200)
        d = body["data"]
        self.assertEqual([v["id"] for v in d["videos"]],
                         ["7000000000000000002", "7000000000000000001"])
        self.assertEqual((d["cursor"], d["has_more"]), (0, False))
        for bad in ([], [str(i) for i in range(21)], [7]):
            st, body = EMU.api("POST", "/v2/video/query/", tok, ["id"],
                               {"filters": {"video_ids": bad}})
            self.assertEqual((st, body["error"]["code"]),
                             (400, "invalid_params"))
        # Hidden: gone from list, still in query. Deleted: gone from both.
        EMU.hide_videos("alice", ["7000000000000000002"])
        EMU.delete_videos("alice", ["7000000000000000001"])
        st, body = self.list_page(tok)
        listed = [v["id"] for v in body["data"]["videos"]]
        self.assertNotIn("7000000000000000002", listed)
        self.assertNotIn("7000000000000000001", listed)
        self.assertEqual(len(listed), 2)
        st, body = EMU.api("POST", "/v2/video/query/", tok, ["id"],
                           {"filters": {"video_ids": ids}})
        self.assertEqual([v["id"] for v in body["data"]["videos"]],
                         ["7000000000000000002"])
        EMU.unhide_videos("alice", ["7000000000000000002"])
        # Update: fields change, create_time re-sorts.
        v = EMU.update_video("alice", "7000000000000000002", title="new",
                             view_count=2 ** 40, create_time=1800000000)
        self.assertEqual(v["view_count"], 2 ** 40)
        st, body = self.list_page(tok, fields=["id", "title", "view_count"])
        first = body["data"]["videos"][0]
        self.assertEqual((first["id"], first["title"], first["view_count"]),
                         ("7000000000000000002", "new", 2 ** 40))
        with self.assertRaises(EmulatorError):
            EMU.add_videos("alice", [{"title": "no create_time"}])
        with self.assertRaises(EmulatorError):
            EMU.add_videos("nobody", [{"create_time": 1}])

    def test_expired_token(self):
        tok = self.token()
        EMU.expire_tokens("alice")
        st, body = EMU.api("POST", "/v2/video/list/", tok["access_token"],
                           ["id"], {})
        self.assertEqual((st, body["error"]["code"]),
                         (401, "access_token_invalid"))
        self.assertNotIn("data", body)
        st, tok2 = EMU.token(grant_type="refresh_token",
                             refresh_token=tok["refresh_token"])
        st, body = EMU.api("POST", "/v2/video/list/", tok2["access_token"],
                           ["id"], {})
        self.assertEqual(st, 200)
        # Natural expiry through the clock.
        EMU.advance(86401)
        st, body = EMU.api("POST", "/v2/video/list/", tok2["access_token"],
                           ["id"], {})
        self.assertEqual(st, 401)
        EMU.expire_tokens("alice", access=False, refresh=True)
        st, body = EMU.token(grant_type="refresh_token",
                             refresh_token=tok2["refresh_token"])
        self.assertEqual(body["error"], "invalid_grant")

    def test_rate_limit(self):
        EMU.config(rate_limit=5, rate_limit_retry_after=7)
        tok = self.token()["access_token"]
        statuses = []
        for _ in range(7):
            r = EMU.http("POST", "/v2/video/list/?fields=id", json_body={},
                         headers={"Authorization": "Bearer " + tok})
            statuses.append(r.status)
        self.assertEqual(statuses, [200] * 5 + [429] * 2)
        self.assertEqual(r.header("Retry-After"), "7")
        self.assertEqual(r.json()["error"]["code"], "rate_limit_exceeded")
        # Per endpoint: user/info still has budget.
        st, body = EMU.api("GET", "/v2/user/info/", tok, ["open_id"])
        self.assertEqual(st, 200)
        EMU.config(rate_limit_retry_after=None)
        r = EMU.http("POST", "/v2/video/list/?fields=id", json_body={},
                     headers={"Authorization": "Bearer " + tok})
        self.assertEqual(r.status, 429)
        self.assertIsNone(r.header("Retry-After"))
        EMU.advance(61)
        st, body = EMU.api("POST", "/v2/video/list/", tok, ["id"], {})
        self.assertEqual(st, 200)
        c = EMU.counters()
        self.assertEqual(c["status"]["429"], 3)
        self.assertEqual(c["paths"]["/v2/video/list/"], 9)
        self.assertEqual(c["by_user"]["alice"]["/v2/video/list/"], 9)


class CoverTest(Base):
    def test_cdn(self):
        EMU.add_videos("alice", [
            {"id": "7100000000000000001", "create_time": 1700000000},
            {"id": "7100000000000000002", "create_time": 1700000001,
             "cover_format": "png"},
            {"id": "7100000000000000003", "create_time": 1700000002,
             "cover_format": "webp"}])
        tok = self.token()["access_token"]
        st, body = self.list_page(tok, fields=["id", "cover_image_url"])
        truth = {v["id"]: v for v in EMU.videos("alice")}
        magic = {"jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n",
                 "webp": b"RIFF"}
        urls = {}
        for v in body["data"]["videos"]:
            url = v["cover_image_url"]
            self.assertTrue(url.startswith(EMU.http_url + "/cdn/"), url)
            self.assertIn("~tplv-noop.image?x-expires=", url)
            urls[v["id"]] = url
            r = EMU.http("GET", url)
            self.assertEqual(r.status, 200)
            t = truth[v["id"]]
            self.assertEqual(r.header("Content-Type"),
                             "image/" + t["cover_format"])
            self.assertTrue(r.body.startswith(magic[t["cover_format"]]))
            self.assertEqual(hashlib.sha256(r.body).hexdigest(),
                             t["cover_sha256"])
            self.assertEqual(len(r.body), t["cover_len"])
            check_decodable(self, t["cover_format"], r.body)
        webp = EMU.http("GET", urls["7100000000000000003"]).body
        self.assertEqual(webp[8:12], b"WEBP")
        self.assertEqual(int.from_bytes(webp[4:8], "little"), len(webp) - 8)
        # Bytes differ per video and per version.
        shas = {t["cover_sha256"] for t in truth.values()}
        self.assertEqual(len(shas), 3)
        old = EMU.http("GET", urls["7100000000000000001"]).body
        EMU.update_video("alice", "7100000000000000001", new_cover=True)
        st, body = EMU.api("POST", "/v2/video/query/", tok,
                           ["id", "cover_image_url"],
                           {"filters": {"video_ids": ["7100000000000000001"]}},
                           https=True)
        url2 = body["data"]["videos"][0]["cover_image_url"]
        self.assertTrue(url2.startswith(EMU.https_url + "/cdn/"), url2)
        new = EMU.http("GET", url2).body
        self.assertNotEqual(old, new)
        self.assertTrue(new.startswith(b"\xff\xd8\xff"))
        # Tampered signature; then expiry through the clock.
        bad = urls["7100000000000000002"][:-4] + "0000"
        self.assertEqual(EMU.http("GET", bad).status, 403)
        EMU.advance(21601)
        r = EMU.http("GET", urls["7100000000000000002"])
        self.assertEqual(r.status, 403)
        self.assertLess(len(r.body), 200)
        self.assertGreaterEqual(EMU.counters()["cdn"], 6)

    def test_identical_cover_key(self):
        vids = EMU.add_videos("alice", [
            {"create_time": 1700000000, "cover_key": "same"},
            {"create_time": 1700000001, "cover_key": "same"}])
        self.assertEqual(vids[0]["cover_sha256"], vids[1]["cover_sha256"])


def check_decodable(tc, fmt, data):
    """Decode with the Debian tools when they are installed."""
    tool = {"jpeg": ["djpeg"], "png": ["pngcheck", "-q"],
            "webp": ["dwebp", "-quiet"]}[fmt]
    if shutil.which(tool[0]) is None:
        return
    import tempfile
    with tempfile.NamedTemporaryFile(suffix="." + fmt) as f:
        f.write(data)
        f.flush()
        args = tool + [f.name]
        if fmt == "webp":
            args += ["-o", os.devnull]
        p = subprocess.run(args, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=10)
        tc.assertEqual(p.returncode, 0, p.stderr)


class FaultTest(Base):
    def setUp(self):
        Base.setUp(self)
        EMU.generate("alice", 30, newest=1750000000, step=60, seed=1)
        self.tok = self.token()["access_token"]
        self.auth = {"Authorization": "Bearer " + self.tok,
                     "Content-Type": "application/json"}

    def list_raw(self, c=None, body=b"{}"):
        own = c is None
        c = c or conn(timeout=3)
        try:
            c.request("POST", "/v2/video/list/?fields=id", body, self.auth)
            r = c.getresponse()
            return r.status, r.read(), r
        finally:
            if own:
                c.close()

    def test_status_and_errors(self):
        EMU.faults({"path": "/v2/video/list/", "kind": "status",
                    "status": 503, "retry_after": 3},
                   {"path": "/v2/video/list/", "kind": "internal_error"},
                   {"path": "/v2/oauth/token/", "kind": "status",
                    "status": 503})
        r = EMU.http("POST", "/v2/video/list/?fields=id", json_body={},
                     headers=self.auth)
        self.assertEqual(r.status, 503)
        self.assertEqual(r.header("Retry-After"), "3")
        self.assertEqual(r.json()["error"]["code"], "internal_error")
        r = EMU.http("POST", "/v2/video/list/?fields=id", json_body={},
                     headers=self.auth)
        self.assertEqual((r.status, r.json()["error"]["code"]),
                         (500, "internal_error"))
        st, body = EMU.token(grant_type="refresh_token", refresh_token="x")
        self.assertEqual((st, body["error"]), (503, "temporarily_unavailable"))
        # Rules are used up; normal answers again.
        r = EMU.http("POST", "/v2/video/list/?fields=id", json_body={},
                     headers=self.auth)
        self.assertEqual(r.status, 200)
        # oauth_error, with "after" and "user".
        tok = self.token()
        EMU.faults({"path": "/v2/oauth/token/", "kind": "oauth_error",
                    "error": "invalid_grant", "after": 1, "user": "alice"})
        st, t2 = EMU.token(grant_type="refresh_token",
                           refresh_token=tok["refresh_token"])
        self.assertIn("access_token", t2)
        st, body = EMU.token(grant_type="refresh_token",
                             refresh_token=t2["refresh_token"])
        self.assertEqual((st, body["error"]), (200, "invalid_grant"))
        rules = EMU.list_faults()
        self.assertEqual(rules[-1]["fired"], 1)

    def test_user_filter_and_forever(self):
        EMU.add_user("bob", "Bob")
        EMU.generate("bob", 3, newest=1750000000)
        bob = EMU.oauth("bob")["access_token"]
        EMU.faults({"path": "/v2/video/list/", "kind": "status",
                    "status": 500, "user": "bob", "times": -1})
        for _ in range(3):
            st, _b = EMU.api("POST", "/v2/video/list/", bob, ["id"], {})
            self.assertEqual(st, 500)
        st, _b = EMU.api("POST", "/v2/video/list/", self.tok, ["id"], {})
        self.assertEqual(st, 200)
        EMU.clear_faults()
        st, _b = EMU.api("POST", "/v2/video/list/", bob, ["id"], {})
        self.assertEqual(st, 200)

    def test_bodies(self):
        EMU.faults({"path": "/v2/video/list/", "kind": "invalid_json"},
                   {"path": "/v2/video/list/", "kind": "wrong_shape"})
        st, body, _r = self.list_raw()
        self.assertEqual(st, 200)
        with self.assertRaises(ValueError):
            json.loads(body)
        st, body, _r = self.list_raw()
        self.assertIsInstance(json.loads(body)["data"]["videos"], dict)

    def test_pages(self):
        truth = [v["id"] for v in EMU.videos("alice")]
        EMU.faults({"path": "/v2/video/list/", "kind": "short_page", "n": 3})
        st, body = self.list_page(self.tok, None, 20)
        d = body["data"]
        self.assertEqual([v["id"] for v in d["videos"]], truth[:3])
        self.assertTrue(d["has_more"])
        st, body = self.list_page(self.tok, d["cursor"], 20)
        self.assertEqual([v["id"] for v in body["data"]["videos"]],
                         truth[3:23])
        # Empty page: cursor still decreases and nothing is skipped.
        c0 = body["data"]["cursor"]
        EMU.faults({"path": "/v2/video/list/", "kind": "empty_page"})
        st, body = self.list_page(self.tok, c0, 20)
        d = body["data"]
        self.assertEqual(d["videos"], [])
        self.assertTrue(d["has_more"])
        self.assertLess(d["cursor"], c0)
        st, body = self.list_page(self.tok, d["cursor"], 20)
        self.assertEqual([v["id"] for v in body["data"]["videos"]],
                         truth[23:])
        # Stuck cursor.
        EMU.faults({"path": "/v2/video/list/", "kind": "cursor_stuck"})
        st, body = self.list_page(self.tok, c0, 5)
        self.assertEqual(body["data"]["cursor"], c0)
        self.assertTrue(body["data"]["has_more"])

    def test_transport(self):
        # delay
        EMU.faults({"path": "/v2/video/list/", "kind": "delay", "ms": 300})
        t0 = time.monotonic()
        st, _b, _r = self.list_raw()
        self.assertEqual(st, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)
        # drip: 1 KB/s, the client gives up after 1 s.
        EMU.faults({"path": "/v2/video/list/", "kind": "drip",
                    "bytes_per_sec": 50})
        c = conn(timeout=5)
        c.request("POST", "/v2/video/list/?fields=id,title,share_url", b"{}",
                  self.auth)
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        t0 = time.monotonic()
        got = r.read(50)
        self.assertEqual(len(got), 50)
        self.assertGreater(time.monotonic() - t0, 0.5)
        c.close()
        # hang: nothing comes back before the client's timeout.
        EMU.faults({"path": "/v2/video/list/", "kind": "hang"})
        t0 = time.monotonic()
        c = conn(timeout=1)
        with self.assertRaises((socket.timeout, TimeoutError)):
            self.list_raw(c)
        c.close()
        self.assertLess(time.monotonic() - t0, 3)
        # truncate: the claimed length is never reached.
        EMU.faults({"path": "/v2/video/list/", "kind": "truncate"})
        with self.assertRaises(http.client.IncompleteRead):
            self.list_raw()
        # drop: no response at all.
        EMU.faults({"path": "/v2/video/list/", "kind": "drop"})
        with self.assertRaises((http.client.RemoteDisconnected,
                                ConnectionError)):
            self.list_raw()
        # And the server still answers; keep-alive reuses one connection.
        c = conn()
        for _ in range(3):
            st, _b, r = self.list_raw(c)
            self.assertEqual(st, 200)
            self.assertIsNotNone(r.getheader("Content-Length"))
        c.close()
        self.assertIn("hang", [e["fault"] for e in EMU.log()])

    def test_cover_faults(self):
        st, body = self.list_page(self.tok, None, 1,
                                  ["id", "cover_image_url"])
        url = body["data"]["videos"][0]["cover_image_url"]
        EMU.faults({"path": "/cdn/", "kind": "cover_html"},
                   {"path": "/cdn/", "kind": "cover_badmagic"},
                   {"path": "/cdn/", "kind": "cover_empty"},
                   {"path": "/cdn/", "kind": "expired"},
                   {"path": "/cdn/", "kind": "cover_huge", "bytes": 300000})
        r = EMU.http("GET", url)
        self.assertEqual((r.status, r.body[:6]), (200, b"<html>"))
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        r = EMU.http("GET", url)
        self.assertEqual(r.status, 200)
        self.assertFalse(r.body.startswith(b"\xff\xd8\xff"))
        r = EMU.http("GET", url)
        self.assertEqual((r.status, r.body), (200, b""))
        r = EMU.http("GET", url)
        self.assertEqual(r.status, 403)
        r = EMU.http("GET", url)
        self.assertEqual((r.status, len(r.body)), (200, 300000))
        self.assertEqual(r.header("Content-Length"), "300000")
        # Chunked, no length; the client stops reading early.
        EMU.faults({"path": "/cdn/", "kind": "cover_huge",
                    "bytes": 50 * 1024 * 1024, "chunked": True})
        c = conn()
        path = url[len(EMU.http_url):]
        c.request("GET", path)
        r = c.getresponse()
        self.assertIsNone(r.getheader("Content-Length"))
        self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(len(r.read(1000000)), 1000000)
        c.close()
        r = EMU.http("GET", url)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body.startswith(b"\xff\xd8\xff"))


class OEmbedTest(Base):
    """GET /oembed: what curated accounts read instead of the Display API."""

    def setUp(self):
        Base.setUp(self)
        EMU.add_user("bob", "Bob's Kitchen")
        EMU.add_videos("bob", [
            {"id": "7200000000000000001", "create_time": 1700000000,
             "title": "t1", "video_description": "Pasta #recipe"},
            {"id": "7200000000000000002", "create_time": 1700000100,
             "title": "only a title"}])

    def test_answer(self):
        url = EMU.video_url("bob", "7200000000000000001")
        st, o = EMU.oembed(url + "?is_from_webapp=1")
        self.assertEqual(st, 200)
        self.assertEqual(o["type"], "video")
        self.assertEqual(o["title"], "Pasta #recipe")
        self.assertEqual(o["author_name"], "Bob's Kitchen")
        self.assertEqual(o["embed_product_id"], "7200000000000000001")
        self.assertIn('data-video-id="7200000000000000001"', o["html"])
        # The thumbnail is a signed, expiring CDN URL that serves the cover.
        thumb = o["thumbnail_url"]
        self.assertIn("~tplv-noop.image?x-expires=", thumb)
        truth = {v["id"]: v for v in EMU.videos("bob")}
        r = EMU.http("GET", thumb)
        self.assertEqual(r.status, 200)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(),
                         truth["7200000000000000001"]["cover_sha256"])
        EMU.advance(21601)
        self.assertEqual(EMU.http("GET", thumb).status, 403)
        # A new answer signs again: same path, another query.
        _, o2 = EMU.oembed(url)
        self.assertEqual(o2["thumbnail_url"].split("?")[0],
                         thumb.split("?")[0])
        self.assertNotEqual(o2["thumbnail_url"], thumb)
        # Without a caption the title is the video's title.
        _, o3 = EMU.oembed(EMU.video_url("x", "7200000000000000002"))
        self.assertEqual(o3["title"], "only a title")
        # The mobile forms work too, and over HTTPS.
        st, _ = EMU.oembed("https://m.tiktok.com/v/7200000000000000001.html",
                           https=True)
        self.assertEqual(st, 200)

    def test_refusals_and_counters(self):
        EMU.reset_counters()
        vid = "7200000000000000001"
        EMU.hide_videos("bob", [vid])
        self.assertEqual(EMU.oembed(EMU.video_url("bob", vid))[0], 400)
        EMU.unhide_videos("bob", [vid])
        self.assertEqual(EMU.oembed(EMU.video_url("bob", vid))[0], 200)
        EMU.delete_videos("bob", [vid])
        self.assertEqual(EMU.oembed(EMU.video_url("bob", vid))[0], 404)
        self.assertEqual(EMU.oembed(vid)[0], 400)
        self.assertEqual(EMU.oembed("https://vm.tiktok.com/ZMx/")[0], 400)
        c = EMU.counters()
        self.assertEqual(c["paths"]["/oembed"], 5)
        # A deleted video no longer names its user.
        self.assertEqual(c["by_user"]["bob"]["/oembed"], 2)

    def test_faults_and_rate(self):
        url = EMU.video_url("bob", "7200000000000000001")
        EMU.fault("/oembed", "status", status=503, times=2)
        self.assertEqual(EMU.oembed(url)[0], 503)
        self.assertEqual(EMU.oembed(url)[0], 503)
        self.assertEqual(EMU.oembed(url)[0], 200)
        EMU.config(oembed_rate_limit=2)
        EMU.reset_counters()
        self.assertEqual(EMU.oembed(url)[0], 200)
        self.assertEqual(EMU.oembed(url)[0], 429)
        self.assertEqual(EMU.counters()["status"]["429"], 1)


class HttpsTest(Base):
    def test_https(self):
        EMU.generate("alice", 3, newest=1750000000)
        tok = self.token()["access_token"]
        st, body = self.list_page(tok, None, 20, ["id", "cover_image_url"],
                                  https=True)
        self.assertEqual(st, 200)
        url = body["data"]["videos"][0]["cover_image_url"]
        self.assertTrue(url.startswith("https://127.0.0.1:"))
        r = EMU.http("GET", url)
        self.assertEqual(r.status, 200)
        # The certificate also names localhost.
        c = http.client.HTTPSConnection("localhost", EMU.https_port,
                                        timeout=5, context=EMU.ssl_context)
        c.request("GET", "/_emu/raw/hello")
        self.assertEqual(c.getresponse().read(), b"hello")
        c.close()
        # Without the CA: verification fails.
        c = http.client.HTTPSConnection("127.0.0.1", EMU.https_port,
                                        timeout=5,
                                        context=ssl.create_default_context())
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.request("GET", "/_emu/raw/hello")
        c.close()
        # The token flow works over HTTPS as well.
        q = EMU.authorize()
        st, t = EMU.token(https=True, grant_type="authorization_code",
                          code=q["code"], redirect_uri=REDIRECT)
        self.assertIn("access_token", t)
        schemes = {e["scheme"] for e in EMU.log()}
        self.assertEqual(schemes, {"http", "https"})


class JsonTest(Base):
    def test_escapes(self):
        EMU.add_videos("alice", [
            {"id": "7200000000000000001", "create_time": 1700000000,
             "title": "Sunset \U0001F305 \u65e5\u672c \"q\"\n\\",
             "video_description": "caf\u00e9"},
            {"id": "7200000000000000002", "create_time": 1700000001,
             "raw_title_json": '"\\ud800 lone"',
             "raw_description_json": '"a\\u0000b"'}])
        tok = self.token()["access_token"]
        r = EMU.http("POST", "/v2/video/list/?fields=id,title,"
                     "video_description", json_body={},
                     headers={"Authorization": "Bearer " + tok})
        raw = r.body
        raw.decode("ascii")  # nothing but ASCII on the wire
        self.assertIn(b"\\ud83c\\udf05", raw)
        self.assertIn(b"\\u65e5\\u672c", raw)
        self.assertIn(b'\\"q\\"\\n\\\\', raw)
        self.assertIn(b'"title":"\\ud800 lone"', raw)
        self.assertIn(b'"video_description":"a\\u0000b"', raw)
        body = r.json()
        titles = {v["id"]: v["title"] for v in body["data"]["videos"]}
        self.assertEqual(titles["7200000000000000001"],
                         "Sunset \U0001F305 \u65e5\u672c \"q\"\n\\")

    def test_generated_content(self):
        t0 = time.monotonic()
        res = EMU.generate("alice", 20000, newest=1750000000, step=60,
                           seed=3, formats=["jpeg", "png", "webp"])
        self.assertEqual(res["count"], 20000)
        self.assertLess(time.monotonic() - t0, 10)
        vids = EMU.state("alice", covers=False)["users"]["alice"]["videos"]
        self.assertEqual(len(vids), 20000)
        self.assertTrue(any(v["view_count"] > 2 ** 31 for v in vids))
        self.assertTrue(all(len(v["title"]) <= 150 for v in vids))
        self.assertTrue(any(any(ord(ch) > 0xFFFF for ch in v["title"])
                            for v in vids))
        self.assertTrue(any("\n" in v["title"] for v in vids))
        self.assertEqual(len({v["id"] for v in vids}), 20000)
        self.assertEqual(len({v["ts"] for v in vids}), 20000)
        self.assertEqual({v["cover_format"] for v in vids},
                         {"jpeg", "png", "webp"})
        # Deterministic.
        EMU.add_user("bob")
        EMU.generate("bob", 5, newest=1750000000, step=60, seed=3)
        bob = EMU.state("bob")["users"]["bob"]["videos"]
        self.assertEqual([v["title"] for v in bob],
                         [v["title"] for v in vids[:5]])


class RawTest(unittest.TestCase):
    def test_raw(self):
        r = EMU.http("GET", "/_emu/raw/hello")
        self.assertEqual((r.status, r.body), (200, b"hello"))
        r = EMU.http("GET", "/_emu/raw/bytes?n=100000")
        self.assertEqual((len(r.body), r.header("Content-Length")),
                         (100000, "100000"))
        c = conn()
        c.request("GET", "/_emu/raw/chunked?n=70000")
        resp = c.getresponse()
        self.assertEqual(resp.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(len(resp.read()), 70000)
        # Keep-alive after a chunked body.
        c.request("GET", "/_emu/raw/hello")
        self.assertEqual(c.getresponse().read(), b"hello")
        c.close()
        with self.assertRaises(http.client.IncompleteRead):
            EMU.http("GET", "/_emu/raw/length?claim=1000&send=500")
        r = EMU.http("GET", "/_emu/raw/status?code=429&retry_after=7")
        self.assertEqual((r.status, r.header("Retry-After")), (429, "7"))
        date = "Wed, 21 Oct 2015 07:28:00 GMT"
        r = EMU.http("GET", "/_emu/raw/status?code=503&retry_after="
                     + urllib.parse.quote(date))
        self.assertEqual((r.status, r.header("Retry-After")), (503, date))
        r = EMU.http("GET", "/_emu/raw/redirect?to=http%3A%2F%2Fx%2Fy")
        self.assertEqual((r.status, r.header("Location")), (302, "http://x/y"))
        r = EMU.http("POST", "/_emu/raw/echo?a=1", body=b"xyz",
                     headers={"X-Test": "v"})
        e = r.json()
        self.assertEqual((e["method"], e["body"], e["headers"]["x-test"],
                          e["query"]["a"]), ("POST", "xyz", "v", "1"))
        out = raw_request(b"GET /_emu/raw/drop HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(out, b"")
        t0 = time.monotonic()
        with self.assertRaises((socket.timeout, TimeoutError)):
            raw_request(b"GET /_emu/raw/hang HTTP/1.1\r\nHost: x\r\n\r\n",
                        timeout=0.5)
        self.assertLess(time.monotonic() - t0, 2)
        c = conn()
        c.request("GET", "/_emu/raw/drip?n=30&rate=20")
        t0 = time.monotonic()
        self.assertEqual(len(c.getresponse().read()), 30)
        self.assertGreater(time.monotonic() - t0, 1.0)
        c.close()
        # Unknown control paths and bad control input are errors.
        with self.assertRaises(EmulatorError):
            EMU.ctl("/_emu/nope")
        with self.assertRaises(EmulatorError):
            EMU.config(no_such_knob=1)
        with self.assertRaises(EmulatorError):
            EMU.faults({"path": "/", "kind": "no_such_kind"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
