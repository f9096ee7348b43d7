#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: the worked example of a static site, as systemd/ documents
it. Sync two accounts from the emulator with the on_change line that
tiktok-mirror-site.path documents (it must write the stamp the path unit
watches), run tiktok-mirror-site.service's ExecStart lines (`export` into a
copy of tests/hugo-site, then the real `hugo`) with its paths moved to
scratch folders, serve the result on 127.0.0.1 and open it in headless
Chromium, driven over its DevTools protocol (a small websocket client on
the standard library). The page must show every video of every account in
position order, every cover must have loaded (naturalWidth > 0), and no
request may have left loopback: Chromium resolves every other host to
nothing, and both the requests it reports and the page's resource timing
entries must all be 127.0.0.1. The Atom feeds the site publishes link
each entry's cover with a URL that, resolved from the feed's own, serves
the mirror's bytes.

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
    videos: [...s.querySelectorAll("li.video")].map(li => ({
      id: li.dataset.id,
      title: li.querySelector(".title").textContent,
      img: li.querySelector("img") && {
        src: li.querySelector("img").getAttribute("src"),
        complete: li.querySelector("img").complete,
        width: li.querySelector("img").naturalWidth,
        height: li.querySelector("img").naturalHeight}}))})),
  images: document.images.length,
  resources: performance.getEntriesByType("resource").map(e => e.name),
  page: performance.getEntriesByType("navigation").map(e => e.name)
})"""


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
        emu.add_videos("brand", [{"create_time": 1750100000,
                                  "title": '<b>Bold</b> & "quoted"'}])
        emu.generate("side", 4, newest=1750000000, step=86400, seed=42)
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
        m.write_config([{"name": "brand", "quantity": "all"},
                        {"name": "side", "start": 2, "quantity": 3}])
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
        for bad in ("embed.js", "<script", "<iframe"):
            self.assertFalse(bad in html, "%s in the built page" % bad)

        url = self.serve(public)
        port = self.browser()
        dt = DevTools(self.page_target(port), timeout=30)
        self.addCleanup(dt.close)
        dt.call("Network.enable")
        dt.call("Page.enable")
        dt.call("Page.navigate", url=url)
        dt.wait_loaded(url, 30)
        r = dt.call("Runtime.evaluate", expression=COLLECT,
                    returnByValue=True)
        page = json.loads(r["result"]["value"])

        self.assertEqual(page["ready"], "complete")
        self.assertEqual([a["name"] for a in page["accounts"]],
                         ["brand", "side"])
        total = 0
        for acct in page["accounts"]:
            want = json.loads(m.run("videos", acct["name"], "--json",
                                    check=0).stdout)
            self.assertEqual([v["id"] for v in acct["videos"]],
                             [w["id"] for w in want])
            for v, w in zip(acct["videos"], want):
                if w["title"]:
                    self.assertEqual(v["title"], w["title"])
                self.assertIsNotNone(v["img"], v)
                self.assertEqual(v["img"]["src"], "/covers/" + w["cover"])
                self.assertTrue(v["img"]["complete"], v)
                self.assertGreater(v["img"]["width"], 0, v)
                self.assertGreater(v["img"]["height"], 0, v)
                total += 1
        self.assertEqual(total, 10 + 3)
        self.assertEqual(page["images"], total)
        # Every cover format was among them.
        exts = {v["img"]["src"].rsplit(".", 1)[1]
                for a in page["accounts"] for v in a["videos"]}
        self.assertEqual(exts, set(EXT.values()))
        # Nothing left loopback: what the page loaded, and every request
        # Chromium made for it.
        requested = [e["params"]["request"]["url"] for e in dt.events
                     if e["method"] == "Network.requestWillBeSent"]
        for u in page["resources"] + page["page"] + requested:
            if not u.startswith("data:"):
                self.assertEqual(urllib.parse.urlsplit(u).hostname,
                                 "127.0.0.1", u)
        covers = {urllib.parse.urljoin(url, v["img"]["src"])
                  for a in page["accounts"] for v in a["videos"]}
        self.assertEqual(set(page["resources"]), covers)
        self.assertLessEqual(covers | {url}, set(requested))

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
                with open(os.path.join(m.covers,
                                       v["img"]["src"][len("/covers/"):]),
                          "rb") as f:
                    self.assertEqual(body, f.read(), cover_url)

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
