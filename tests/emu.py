# SPDX-License-Identifier: ISC
"""Python client for the TikTok API emulator (tests/emulator.py).

    from emu import Emulator
    with Emulator() as emu:
        emu.add_user("alice", "Alice")
        emu.generate("alice", 45)
        ... point the daemon at emu.http_url / emu.https_url (CA: emu.ca)

start() runs the emulator on two free loopback ports and waits for it;
stop() ends it (SIGTERM, then SIGKILL after 5 s). Control calls go to the
plain HTTP port and raise EmulatorError on a non-2xx answer. Standard
library only.
"""
import atexit
import hashlib
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(HERE, "emulator.py")

DEFAULT_SCOPE = "user.info.basic,video.list"


class EmulatorError(Exception):
    """A control call failed: status and the decoded answer."""

    def __init__(self, status, body):
        Exception.__init__(self, "emulator answered %s: %s" % (status, body))
        self.status = status
        self.body = body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Response:
    """A raw HTTP answer: status, headers (case-insensitive), body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name, default=None):
        return self.headers.get(name, default)


def pkce_pair():
    """(verifier, challenge): TikTok's challenge is lowercase hex SHA-256."""
    verifier = secrets.token_urlsafe(48)[:64]
    return verifier, hashlib.sha256(verifier.encode()).hexdigest()


class Emulator:
    def __init__(self, verbose=False, keep_dir=False, env=None, clock=None):
        self.verbose = verbose
        # "REAL_MS:SIM_MS:SCALE": the compressed test clock (--clock).
        self.clock_spec = clock
        self.keep_dir = keep_dir
        self.env = env
        self.proc = None
        self.dir = None
        self.http_url = None
        self.https_url = None
        self.http_port = None
        self.https_port = None
        self.ca = None
        self.pid = None
        self._ssl = None
        self._atexit = False

    # ---- lifecycle -----------------------------------------------------

    def start(self, timeout=15.0):
        if self.proc is not None:
            return self
        self.dir = tempfile.mkdtemp(prefix="tiktok-emu-test-")
        ready = os.path.join(self.dir, "ready.json")
        cmd = [sys.executable, EMULATOR, "--dir", self.dir, "--ready-file",
               ready, "--http-port", "0", "--https-port", "0"]
        if self.verbose:
            cmd.append("--verbose")
        if self.clock_spec is not None:
            cmd += ["--clock", self.clock_spec]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, env=self.env)
        if not self._atexit:
            atexit.register(self.stop)
            self._atexit = True
        deadline = time.monotonic() + timeout
        info = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with open(ready) as f:
                    info = json.load(f)
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        if info is None:
            rc = self.proc.poll()
            self.stop()
            raise RuntimeError("emulator did not start (exit %s)" % rc)
        self.http_port = info["http"]
        self.https_port = info["https"]
        self.http_url = "http://127.0.0.1:%d" % self.http_port
        self.https_url = "https://127.0.0.1:%d" % self.https_port
        self.ca = info["ca"]
        self.pid = info["pid"]
        self._ssl = ssl.create_default_context(cafile=self.ca)
        return self

    def stop(self):
        p = self.proc
        self.proc = None
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if self.dir and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def ssl_context(self):
        """An ssl.SSLContext that trusts the emulator's CA."""
        return self._ssl

    # ---- plain HTTP ----------------------------------------------------

    def url(self, path, https=False):
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return (self.https_url if https else self.http_url) + path

    def http(self, method, path, body=None, headers=None, https=False,
             timeout=10.0, form=None, json_body=None):
        """One request, no redirects followed, never raises for a status.
        body: bytes; form: dict (form-encoded); json_body: any JSON."""
        hdrs = dict(headers or {})
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            hdrs.setdefault("Content-Type",
                            "application/x-www-form-urlencoded")
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        url = self.url(path, https)
        req = urllib.request.Request(url, data=body, headers=hdrs,
                                     method=method)
        handlers = [_NoRedirect()]
        if url.startswith("https://"):
            handlers.append(urllib.request.HTTPSHandler(context=self._ssl))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(req, timeout=timeout) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            data = e.read()
            e.close()
            return Response(e.code, e.headers, data)

    def ctl(self, path, obj=None):
        """POST a JSON control request; returns the decoded answer."""
        r = self.http("POST", path, json_body=obj if obj is not None else {})
        return self._decode(r)

    def get(self, path):
        return self._decode(self.http("GET", path))

    @staticmethod
    def _decode(r):
        try:
            data = r.json() if r.body else None
        except ValueError:
            data = r.body.decode("utf-8", "replace")
        if not 200 <= r.status < 300:
            raise EmulatorError(r.status, data)
        return data

    # ---- control -------------------------------------------------------

    def reset(self):
        return self.ctl("/_emu/reset")

    def config(self, **kw):
        return self.ctl("/_emu/config", kw)

    def clock(self, offset=None, advance=None):
        obj = {}
        if offset is not None:
            obj["offset"] = offset
        if advance is not None:
            obj["advance"] = advance
        return self.ctl("/_emu/clock", obj)

    def set_clock(self, spec):
        """Compress the emulator's time as TIKTOK_MIRROR_TEST_CLOCK=spec
        ("REAL_MS:SIM_MS:SCALE") does the daemon's; None: real time."""
        return self.ctl("/_emu/clock", {"clock": spec})

    def advance(self, seconds):
        return self.clock(advance=seconds)

    def now(self):
        return self.get("/_emu/clock")["now"]

    def add_user(self, name, display_name=None, **extra):
        obj = {"name": name}
        if display_name is not None:
            obj["display_name"] = display_name
        obj.update(extra)
        return self.ctl("/_emu/users", obj)

    def login(self, user, deny=False, scopes=None):
        obj = {"user": user, "deny": deny}
        if scopes is not None:
            obj["scopes"] = scopes
        return self.ctl("/_emu/login", obj)

    def add_videos(self, user, videos):
        return self.ctl("/_emu/videos", {"user": user,
                                         "videos": list(videos)})["videos"]

    def generate(self, user, count, newest=None, step=3600, seed=0,
                 formats=None):
        obj = {"user": user, "count": count, "step": step, "seed": seed}
        if newest is not None:
            obj["newest"] = newest
        if formats is not None:
            obj["formats"] = list(formats)
        return self.ctl("/_emu/videos/generate", obj)

    def update_video(self, user, id, **fields):
        obj = dict(fields)
        obj["user"] = user
        obj["id"] = id
        return self.ctl("/_emu/videos/update", obj)["video"]

    def delete_videos(self, user, ids):
        return self.ctl("/_emu/videos/delete", {"user": user,
                                                "ids": list(ids)})

    def hide_videos(self, user, ids):
        return self.ctl("/_emu/videos/hide", {"user": user, "ids": list(ids)})

    def unhide_videos(self, user, ids):
        return self.ctl("/_emu/videos/unhide", {"user": user,
                                                "ids": list(ids)})

    def pin_videos(self, user, ids):
        return self.ctl("/_emu/videos/pin", {"user": user, "ids": list(ids)})

    def expire_tokens(self, user, access=True, refresh=False):
        return self.ctl("/_emu/tokens/expire", {"user": user,
                                                "access": access,
                                                "refresh": refresh})

    def revoke(self, user):
        return self.ctl("/_emu/tokens/revoke", {"user": user})

    def faults(self, *rules):
        return self.ctl("/_emu/faults", {"faults": list(rules)})["faults"]

    def fault(self, path, kind, **params):
        rule = {"path": path, "kind": kind}
        rule.update(params)
        return self.faults(rule)

    def list_faults(self):
        return self.get("/_emu/faults")["faults"]

    def clear_faults(self):
        return self.ctl("/_emu/faults/clear")

    def state(self, user=None, videos=True, covers=True):
        q = {}
        if user is not None:
            q["user"] = user
        if not videos:
            q["videos"] = "0"
        if not covers:
            q["covers"] = "0"
        path = "/_emu/state"
        if q:
            path += "?" + urllib.parse.urlencode(q)
        return self.get(path)

    def videos(self, user):
        """The truth for one user's videos, newest first."""
        return self.state(user)["users"][user]["videos"]

    def counters(self):
        return self.get("/_emu/counters")

    def reset_counters(self):
        return self.ctl("/_emu/counters/reset")

    def log(self, since=0):
        return self.get("/_emu/log?since=%d" % since)["entries"]

    # ---- OAuth as a browser and a client would do it --------------------

    def config_now(self):
        return self.get("/_emu/config")

    def authorize_url(self, scope=DEFAULT_SCOPE, redirect_uri=None,
                      state="state-1", challenge=None, https=False,
                      client_key=None):
        cfg = self.config_now()
        q = {"client_key": client_key or cfg["client_key"],
             "scope": scope, "response_type": "code",
             "redirect_uri": redirect_uri or cfg["redirect_uris"][0],
             "state": state}
        if challenge is not None:
            q["code_challenge"] = challenge
            q["code_challenge_method"] = "S256"
        return self.url("/v2/auth/authorize/?" + urllib.parse.urlencode(q),
                        https)

    def authorize(self, **kw):
        """GET the authorize URL; returns the redirect's query as a dict
        (code URL-decoded), or raises EmulatorError."""
        r = self.http("GET", self.authorize_url(**kw))
        if r.status != 302:
            raise EmulatorError(r.status, r.body.decode("utf-8", "replace"))
        loc = r.header("Location")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
        return {k: v[0] for k, v in q.items()}

    def token(self, https=False, **form):
        """POST /v2/oauth/token/ with form (client credentials filled in);
        returns (HTTP status, decoded JSON)."""
        cfg = self.config_now()
        f = {"client_key": cfg["client_key"],
             "client_secret": cfg["client_secret"]}
        f.update(form)
        r = self.http("POST", "/v2/oauth/token/", form=f, https=https)
        return r.status, r.json()

    def oauth(self, user, scope=DEFAULT_SCOPE):
        """The whole flow for user: returns the token response."""
        self.login(user)
        verifier, challenge = pkce_pair()
        cfg = self.config_now()
        q = self.authorize(scope=scope, challenge=challenge)
        status, tok = self.token(grant_type="authorization_code",
                                 code=q["code"],
                                 redirect_uri=cfg["redirect_uris"][0],
                                 code_verifier=verifier)
        if "access_token" not in tok:
            raise EmulatorError(status, tok)
        return tok

    def oembed(self, video_url, https=False):
        """GET /oembed?url=VIDEO_URL: (status, decoded body or None)."""
        r = self.http("GET", "/oembed?" + urllib.parse.urlencode(
            {"url": video_url}), https=https)
        try:
            return r.status, r.json()
        except ValueError:
            return r.status, None

    @staticmethod
    def video_url(user, vid):
        """The address a user copies for video vid of user."""
        return "https://www.tiktok.com/@%s/video/%s" % (user, vid)

    def api(self, method, path, token, fields=None, body=None, https=False):
        """Call a data endpoint; returns (HTTP status, decoded JSON)."""
        if fields is not None:
            path += "?fields=" + ",".join(fields)
        hdrs = {"Authorization": "Bearer " + token}
        r = self.http(method, path, json_body=body, headers=hdrs, https=https)
        try:
            return r.status, r.json()
        except ValueError:
            return r.status, r.body


__all__ = ["Emulator", "EmulatorError", "Response", "pkce_pair",
           "DEFAULT_SCOPE"]
