#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: the worked example of a static site, as systemd/ documents
it. Sync two accounts from the emulator (one with a hidden video, one with
an exclude term) with the on_change line that tiktok-mirror-site.path
documents (it must write the stamp the path unit watches), run
tiktok-mirror-site.service's ExecStart lines (`export` into a copy of
tests/hugo-site, then the real `hugo`) with its paths moved to scratch
folders, serve the result on 127.0.0.1 and open it in headless Chromium,
driven over its DevTools protocol (a small websocket client on the
standard library).

Before any click: the page shows every video the filters keep, in
position order, and none they leave out; each cover is an <img> that Hugo
resized into two widths (srcset with two distinct "Nw" candidates,
width and height set), loaded (naturalWidth > 0); hostile text (a title
that is markup, a javascript: share_url, embed_html with a script) shows
as text and runs nothing; there is no iframe; and no request has left
loopback: Chromium resolves every other host to nothing, and both the
requests it reports and the page's resource timing entries are all
127.0.0.1. Then a real mouse click on a video puts TikTok's Embed Player
for that video (https://www.tiktok.com/player/v1/ID) in its place, and
that frame's request is the first to leave (and fails, by the resolver
rule). The Atom feeds the site publishes link each entry's cover with a
URL that, resolved from the feed's own, serves the mirror's bytes.

test_site_units_verify: systemd-analyze verify takes both site units.

hugo and chromium are Debian packages: as root the test installs them
when missing; otherwise it skips, saying which apt-get line to run. Every
wait is bounded; Chromium (its whole process group), the web server and
the emulator are ended in the cleanup whatever happened.
"""
import base64
import functools
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import harness
from harness import Emulator, Mirror, EXT
from daemon_util import wait_until

SITE = os.path.join(harness.ROOT, "tests", "hugo-site")
UNITS = os.path.join(harness.ROOT, "systemd")
PACKAGES = {"hugo": "hugo", "chromium": "chromium"}  # command: package
APT_TIMEOUT = 900
ATOM = "{http://www.w3.org/2005/Atom}"

# What the page reports once loaded.
COLLECT = r"""JSON.stringify({
  ready: document.readyState,
  accounts: [...document.querySelectorAll("section.account")].map(s => ({
    name: s.dataset.account,
    heading: s.querySelector("h2 .name").textContent,
    avatar: s.querySelector("h2 img.avatar") && {
      src: s.querySelector("h2 img.avatar").getAttribute("src"),
      current: s.querySelector("h2 img.avatar").currentSrc,
      complete: s.querySelector("h2 img.avatar").complete,
      width: s.querySelector("h2 img.avatar").naturalWidth},
    videos: [...s.querySelectorAll("li.video")].map(li => ({
      id: li.dataset.id,
      title: li.querySelector(".title").textContent,
      link: li.querySelector(".meta a") &&
        li.querySelector(".meta a").getAttribute("href"),
      button: !!li.querySelector(".player button"),
      img: li.querySelector(".player img") && {
        src: li.querySelector(".player img").getAttribute("src"),
        current: li.querySelector(".player img").currentSrc,
        srcset: li.querySelector(".player img").getAttribute("srcset"),
        attr_width: li.querySelector(".player img").getAttribute("width"),
        attr_height: li.querySelector(".player img").getAttribute("height"),
        complete: li.querySelector(".player img").complete,
        width: li.querySelector(".player img").naturalWidth,
        height: li.querySelector(".player img").naturalHeight}}))})),
  images: document.images.length,
  iframes: document.querySelectorAll("iframe").length,
  injected: document.querySelectorAll("li.video .title *, img[src='x']")
    .length,
  title: document.title,
  resources: performance.getEntriesByType("resource").map(e => e.name),
  page: performance.getEntriesByType("navigation").map(e => e.name)
})"""

# A hostile video: markup as a title, a javascript: link, a script in
# embed_html. The page must show the text and run nothing.
HOSTILE_TITLE = '<img src=x onerror="document.title=\'pwned\'"><b>Bold</b> & "q"'
PLAYER = "https://www.tiktok.com/player/v1/"


def ensure_tools():
    """None when hugo and chromium are there (installing them as root),
    else why the test must skip."""
    missing = [pkg for cmd, pkg in PACKAGES.items() if not shutil.which(cmd)]
    if not missing:
        return None
    line = "apt-get install -y --no-install-recommends " + " ".join(missing)
    if os.geteuid() != 0:
        return "needs %s; as root run: %s" % (", ".join(missing), line)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"]
    p = subprocess.run(install + missing, env=env, capture_output=True,
                       text=True, timeout=APT_TIMEOUT,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env,
                       capture_output=True, timeout=APT_TIMEOUT,
                       stdin=subprocess.DEVNULL)
        p = subprocess.run(install + missing, env=env, capture_output=True,
                           text=True, timeout=APT_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    if p.returncode != 0 or not all(shutil.which(c) for c in PACKAGES):
        raise AssertionError("could not install %s:\n%s%s" % (
            " ".join(missing), p.stdout, p.stderr))
    return None


def site_units(places):
    """What systemd/tiktok-mirror-site.{path,service} do, with the paths in
    'places' (a prefix -> replacement map) moved: the on_change line the
    path unit's comment documents, the stamp file it watches, the
    service's ExecStart lines (argv lists) and its Environment."""
    def move(text):
        for a, b in places.items():
            text = text.replace(a, b)
        return text
    hook = stamp = None
    with open(os.path.join(UNITS, "tiktok-mirror-site.path")) as f:
        for line in f:
            m = re.match(r"^#\s+on_change: (.*)$", line)
            if m:
                hook = move(m.group(1))
            m = re.match(r"^PathChanged=(.*)$", line)
            if m:
                stamp = move(m.group(1))
    steps, env = [], {}
    with open(os.path.join(UNITS, "tiktok-mirror-site.service")) as f:
        for line in f:
            if line.startswith("ExecStart="):
                steps.append(shlex.split(move(line[len("ExecStart="):])))
            elif line.startswith("Environment="):
                k, _, v = line.strip()[len("Environment="):].partition("=")
                env[k] = move(v)
    assert hook and stamp and len(steps) == 2, (hook, stamp, steps)
    return hook, stamp, steps, env


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames,
    masked from the client, every read bounded by the socket timeout."""

    def __init__(self, url, timeout):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port),
                                             timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n"
                           % (u.path, u.netloc, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise AssertionError("websocket refused: %r" % head)

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise AssertionError("DevTools closed the connection")
        return data

    def _take(self, n):
        while len(self.buf) < n:
            self.buf += self._recv()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text):
        data = text.encode()
        head = bytearray([0x81])
        if len(data) < 126:
            head.append(0x80 | len(data))
        elif len(data) < 65536:
            head.append(0x80 | 126)
            head += struct.pack(">H", len(data))
        else:
            head.append(0x80 | 127)
            head += struct.pack(">Q", len(data))
        mask = os.urandom(4)
        head += mask
        self.sock.sendall(bytes(head) + bytes(
            b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        """The next whole text message."""
        parts = []
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._take(8))[0]
            if b1 & 0x80:
                mask = self._take(4)
                payload = bytes(b ^ mask[i % 4]
                                for i, b in enumerate(self._take(n)))
            else:
                payload = self._take(n)
            op = b0 & 0x0F
            if op == 0x8:
                raise AssertionError("DevTools closed the websocket")
            if op in (0x9, 0xA):        # ping, pong: not for us
                continue
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode()

    def close(self):
        self.sock.close()


class DevTools:
    """Calls and events of one page target."""

    def __init__(self, url, timeout):
        self.ws = WebSocket(url, timeout)
        self.next = 0
        self.events = []

    def call(self, method, **params):
        self.next += 1
        self.ws.send(json.dumps({"id": self.next, "method": method,
                                 "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next:
                if "error" in m:
                    raise AssertionError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_loaded(self, url, timeout):
        """Until the page's document is 'url', fully loaded (its load
        event, so every image, has come)."""
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            try:
                r = self.call("Runtime.evaluate", returnByValue=True,
                              expression="location.href + ' ' + "
                                         "document.readyState")
                state = r["result"].get("value")
            except AssertionError as e:  # a context gone mid-navigation
                state = str(e)
            if state == url + " complete":
                return
            time.sleep(0.05)
        raise AssertionError("%s not loaded within %.0f s: %s"
                             % (url, timeout, state))

    def close(self):
        self.ws.close()


class HugoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = ensure_tools()
        if why:
            raise unittest.SkipTest(why)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tiktok-mirror-hugo-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def serve(self, folder):
        handler = functools.partial(QuietHandler, directory=folder)
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()

        def stop():
            srv.shutdown()
            srv.server_close()
            t.join(5)
        self.addCleanup(stop)
        return "http://127.0.0.1:%d/" % srv.server_address[1]

    def browser(self):
        """Headless Chromium with DevTools on a loopback port; returns
        the port. Its process group is killed in the cleanup."""
        profile = os.path.join(self.tmp, "chromium-profile")
        os.makedirs(profile)
        log = open(os.path.join(self.tmp, "chromium.log"), "wb")
        self.addCleanup(log.close)
        p = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--user-data-dir=" + profile, "--remote-debugging-port=0",
             "--remote-debugging-address=127.0.0.1", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)

        def kill():
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(10)
        self.addCleanup(kill)
        port_file = os.path.join(profile, "DevToolsActivePort")

        def port():
            if p.poll() is not None:
                raise AssertionError("chromium exited %d:\n%s" % (
                    p.returncode, open(log.name, errors="replace").read()))
            try:
                with open(port_file) as f:
                    return int(f.readline())
            except (OSError, ValueError):
                return None
        return wait_until(port, 30, interval=0.1, what="chromium's DevTools")

    def page_target(self, port):
        def find():
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list"
                                        % port, timeout=5) as r:
                for t in json.load(r):
                    if t.get("type") == "page":
                        return t["webSocketDebuggerUrl"]
        return wait_until(find, 15, interval=0.1, what="a page target")

    def test_site_shows_every_video_from_loopback(self):
        emu = Emulator().start()
        self.addCleanup(emu.stop)
        m = Mirror(emu, https=False)
        self.addCleanup(m.cleanup)
        emu.add_user("brand", "Brand")
        emu.add_user("side", "Side")
        emu.generate("brand", 9, newest=1750000000, step=86400, seed=41,
                     formats=["jpeg", "png", "webp"])
        emu.add_videos("brand", [{
            "create_time": 1750100000, "title": HOSTILE_TITLE,
            "share_url": "javascript:document.title='pwned'",
            "embed_html": '<script>document.title="pwned"</script>'}])
        emu.generate("side", 4, newest=1750000000, step=86400, seed=42)
        emu.add_videos("side", [{"create_time": 1749990000,
                                 "title": "not for the site #skip"}])
        hidden = emu.videos("brand")[2]["id"]
        skipped = emu.videos("side")[1]["id"]
        # The site's setup as systemd/ documents it, in scratch folders.
        site = os.path.join(self.tmp, "site")
        shutil.copytree(SITE, site)
        places = {"/usr/local/bin/tiktok-mirror": harness.BIN,
                  "/srv/site": site,
                  "/var/cache/tiktok-mirror-site":
                      os.path.join(self.tmp, "cache"),
                  "/var/lib/tiktok-mirror": m.dir}
        hook, stamp, steps, env = site_units(places)
        self.assertEqual(stamp, os.path.join(m.dir, "changed"))
        m.write_config([{"name": "brand", "quantity": "all",
                         "hide": '["%s"]' % hidden},
                        {"name": "side", "start": 2, "quantity": 3,
                         "exclude": '["#skip"]'}])
        with open(m.config) as f:
            text = f.read()
        with open(m.config, "w") as f:
            f.write("on_change: %s\n" % hook + text)
        for name in ("brand", "side"):
            p = m.auth_code(name, name)
            self.assertEqual(p.returncode, 0, p.stderr)
        m.run("sync", check=0)
        # The hook stamped the change the path unit watches for.
        self.assertTrue(os.path.exists(stamp))

        # tiktok-mirror-site.service: export, then hugo.
        env = dict(os.environ, **env)
        env["TIKTOK_MIRROR_CONFIG"] = m.config
        for argv in steps:
            p = subprocess.run(argv, capture_output=True, text=True,
                               timeout=120, stdin=subprocess.DEVNULL,
                               env=env)
            self.assertEqual(p.returncode, 0, "%s\n%s%s" % (
                argv, p.stdout, p.stderr))
        public = os.path.join(site, "public")
        with open(os.path.join(public, "index.html")) as f:
            html = f.read()
        for bad in ("embed.js", "<iframe", "tiktok-embed", "<img src=x",
                    "javascript:", hidden, skipped):
            self.assertFalse(bad in html, "%s in the built page" % bad)
        # The only script is the site's own player.
        self.assertEqual(re.findall(r"<script[^>]*>", html),
                         ['<script src="/player.js" defer>'])

        url = self.serve(public)
        port = self.browser()
        dt = DevTools(self.page_target(port), timeout=30)
        self.addCleanup(dt.close)
        dt.call("Network.enable")
        dt.call("Page.enable")
        # A tall window, so that every lazy cover is in view and loads.
        dt.call("Emulation.setDeviceMetricsOverride", width=1280,
                height=8000, deviceScaleFactor=1, mobile=False)
        dt.call("Page.navigate", url=url)
        dt.wait_loaded(url, 30)
        page = self.collect(dt)
        def all_loaded():
            p = self.collect(dt)
            return p if all(v["img"] and v["img"]["complete"]
                            for a in p["accounts"]
                            for v in a["videos"]) else None
        page = wait_until(all_loaded, 30, what="every cover loaded")

        self.assertEqual(page["ready"], "complete")
        self.assertEqual([a["name"] for a in page["accounts"]],
                         ["brand", "side"])
        # accounts.json: display names and avatars, resized by Hugo.
        self.assertEqual([a["heading"] for a in page["accounts"]],
                         ["Brand", "Side"])
        for a in page["accounts"]:
            self.assertIsNotNone(a["avatar"], a)
            self.assertTrue(a["avatar"]["src"].startswith(
                "/covers/%s/avatar_" % a["name"]), a)
            self.assertTrue(a["avatar"]["complete"], a)
            self.assertGreater(a["avatar"]["width"], 0, a)
        total = 0
        exts = set()
        for acct in page["accounts"]:
            want = json.loads(m.run("videos", acct["name"], "--json",
                                    check=0).stdout)
            self.assertEqual([v["id"] for v in acct["videos"]],
                             [w["id"] for w in want])
            for v, w in zip(acct["videos"], want):
                if w["title"]:
                    self.assertEqual(v["title"], w["title"])
                self.assertTrue(v["button"], v)
                if v["link"] is not None:
                    self.assertTrue(v["link"].startswith("https://"), v)
                img = v["img"]
                self.assertIsNotNone(img, v)
                # Hugo's resized covers: two widths, sizes given.
                cands = [c.split() for c in img["srcset"].split(",")]
                self.assertEqual(len(cands), 2, img)
                widths = [int(c[1][:-1]) for c in cands]
                self.assertTrue(all(c[1].endswith("w") for c in cands))
                self.assertEqual(len(set(widths)), 2, img)
                prefix = "/covers/%s/%s_" % (acct["name"], v["id"])
                for c in cands:
                    self.assertTrue(c[0].startswith(prefix), c)
                self.assertEqual(img["src"], cands[0][0])
                self.assertIn(img["current"],
                              [urllib.parse.urljoin(url, c[0])
                               for c in cands])
                self.assertRegex(img["attr_width"] or "", r"^[1-9][0-9]*$")
                self.assertRegex(img["attr_height"] or "",
                                 r"^[1-9][0-9]*$")
                self.assertTrue(img["complete"], v)
                self.assertGreater(img["width"], 0, v)
                self.assertGreater(img["height"], 0, v)
                exts.add(w["cover"].rsplit(".", 1)[1])
                total += 1
        self.assertEqual(total, 9 + 3)
        # Every cover format went through Hugo.
        self.assertEqual(exts, set(EXT.values()))
        # Hostile text is text.
        brand = page["accounts"][0]
        self.assertEqual(brand["videos"][0]["title"], HOSTILE_TITLE)
        self.assertIsNone(brand["videos"][0]["link"])  # javascript:
        self.assertEqual(page["injected"], 0)
        self.assertEqual(page["title"], "Our TikTok videos")
        self.assertEqual(page["iframes"], 0)
        # Nothing left loopback before a click: what the page loaded, and
        # every request Chromium made for it.
        requested = [e["params"]["request"]["url"] for e in dt.events
                     if e["method"] == "Network.requestWillBeSent"]
        for u in page["resources"] + page["page"] + requested:
            if not u.startswith("data:"):
                self.assertEqual(urllib.parse.urlsplit(u).hostname,
                                 "127.0.0.1", u)
        loaded = {v["img"]["current"] for a in page["accounts"]
                  for v in a["videos"]}
        loaded |= {a["avatar"]["current"] for a in page["accounts"]}
        loaded |= {urllib.parse.urljoin(url, "player.js")}
        self.assertEqual(set(page["resources"]), loaded)
        self.assertLessEqual(loaded | {url}, set(requested))

        # A click on the second brand video: the Embed Player in place.
        vid = brand["videos"][1]["id"]
        nreq = len(requested)
        r = dt.call("Runtime.evaluate", returnByValue=True, expression="""
            (() => {
              const b = document.querySelector(
                'li.video[data-id="%s"] .player button');
              b.scrollIntoView({block: "center"});
              const r = b.getBoundingClientRect();
              return [r.left + r.width / 2, r.top + r.height / 2];
            })()""" % vid)
        x, y = r["result"]["value"]
        for kind in ("mousePressed", "mouseReleased"):
            dt.call("Input.dispatchMouseEvent", type=kind, x=x, y=y,
                    button="left", clickCount=1)

        def frame():
            r = dt.call("Runtime.evaluate", returnByValue=True, expression="""
                JSON.stringify([...document.querySelectorAll("iframe")]
                  .map(f => ({src: f.src, id: f.dataset.id,
                              li: f.closest("li.video").dataset.id,
                              title: f.title})))""")
            frames = json.loads(r["result"]["value"])
            return frames or None
        frames = wait_until(frame, 15, what="the player frame")
        self.assertEqual(len(frames), 1, frames)
        f = frames[0]
        self.assertEqual(f["li"], vid)
        self.assertEqual(f["id"], vid)
        self.assertTrue(f["src"].startswith(PLAYER + vid + "?"), f)
        self.assertTrue(f["title"].startswith("Play on TikTok: "), f)
        after = self.collect(dt)
        self.assertEqual([v["button"] for v in after["accounts"][0]["videos"]],
                         [v["id"] != vid for v in brand["videos"]])

        # The frame's request is what leaves (the resolver rule fails it).
        def left():
            dt.call("Runtime.evaluate", expression="1")
            urls = [e["params"]["request"]["url"] for e in dt.events
                    if e["method"] == "Network.requestWillBeSent"]
            out = [u for u in urls[nreq:]
                   if urllib.parse.urlsplit(u).hostname != "127.0.0.1"]
            return out or None
        out = wait_until(left, 15, what="the player frame's request")
        for u in out:
            self.assertTrue(u.startswith(PLAYER + vid + "?"), u)

        # The published feeds: every entry's cover link resolves, from
        # the feed's own URL, to the mirror's cover.
        for acct in page["accounts"]:
            feed_url = urllib.parse.urljoin(url, acct["name"] + ".atom")
            with urllib.request.urlopen(feed_url, timeout=10) as r:
                feed = ET.fromstring(r.read())
            entries = feed.findall(ATOM + "entry")
            self.assertEqual(len(entries), len(acct["videos"]))
            for e, v in zip(entries, acct["videos"]):
                self.assertTrue(e.findtext(ATOM + "id").endswith(
                    "/" + v["id"]))
                enc = [ln for ln in e.findall(ATOM + "link")
                       if ln.get("rel") == "enclosure"][0]
                cover_url = urllib.parse.urljoin(feed_url, enc.get("href"))
                with urllib.request.urlopen(cover_url, timeout=10) as r:
                    body = r.read()
                rel = m.sql("SELECT cover FROM videos WHERE account = ?"
                            " AND id = ?", acct["name"], v["id"])[0]["cover"]
                with open(os.path.join(m.covers, rel), "rb") as f:
                    self.assertEqual(body, f.read(), cover_url)

    @staticmethod
    def collect(dt):
        r = dt.call("Runtime.evaluate", expression=COLLECT,
                    returnByValue=True)
        return json.loads(r["result"]["value"])

    @unittest.skipIf(shutil.which("systemd-analyze") is None,
                     "systemd-analyze is not installed (Debian: systemd)")
    def test_site_units_verify(self):
        """systemd-analyze verify takes both site units (in a copy whose
        ExecStart lines name the built binary and this machine's hugo,
        since verify wants executables)."""
        names = ("tiktok-mirror-site.service", "tiktok-mirror-site.path")
        for name in names:
            with open(os.path.join(UNITS, name)) as f:
                text = f.read()
            text = text.replace("/usr/local/bin/tiktok-mirror",
                                os.path.abspath(harness.BIN))
            text = text.replace("/usr/bin/hugo", shutil.which("hugo"))
            with open(os.path.join(self.tmp, name), "w") as f:
                f.write(text)
        p = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            "--recursive-errors=no"] +
                           [os.path.join(self.tmp, n) for n in names],
                           capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
