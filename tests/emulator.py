#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""TikTok API emulator for tiktok-mirror's tests and demo.

Serves one app on two loopback ports, plain HTTP and HTTPS (a throw-away CA
made with the openssl command), following ../../shared/tiktok-api.md:

  GET  /v2/auth/authorize/     auto-approves as the browser user (/_emu/login)
  POST /v2/oauth/token/        authorization_code (hex-S256 PKCE) and
                               refresh_token (strict rotation by default)
  POST /v2/oauth/revoke/
  GET  /v2/user/info/          Bearer; data envelope with real HTTP statuses
  POST /v2/video/list/         cursor = ms timestamp of the last video returned
  POST /v2/video/query/
  GET  /cdn/...                covers behind signed, expiring URLs
  GET  /oembed?url=VIDEO_URL   TikTok's public oEmbed (no token): title
                               (the caption), author_name, html and a
                               thumbnail_url on the CDN; 404 for an unknown
                               or deleted video, 400 for a hidden (private)
                               one or a URL that is not a video address

plus a JSON control interface under /_emu/ (users, videos, clock, tokens,
faults, counters, state) and raw HTTP behaviours under /_emu/raw/ for the
HTTP client's unit tests. Python 3 standard library only.

  python3 tests/emulator.py [--http-port 0] [--https-port 0] [--dir DIR]
                            [--ready-file FILE] [--verbose]
                            [--clock REAL_MS:SIM_MS:SCALE]

The ready file gets {"http", "https", "ca", "pid", "dir"} once both ports
listen. SIGTERM/SIGINT stop it; so does the death of the parent process
(or --max-lifetime, default 24 h). tests/emu.py wraps all of this.

Time is now() = real time + a settable offset; token, code and cover-URL
expiry, the rate window and generated defaults all follow it. With
--clock REAL_MS:SIM_MS:SCALE (or POST /_emu/clock {"clock": "..."}) real
time is compressed exactly as the daemon's test-only
TIKTOK_MIRROR_TEST_CLOCK does it: now() reads SIM_MS at real time REAL_MS
(unix milliseconds) and runs SCALE times faster (plus the offset). Fault
delays, drips, hangs and the idle timeout stay in real time.

Control interface (JSON in and out, both ports; errors are 4xx
{"error": "..."}):
  POST /_emu/reset                   everything back to defaults
  GET|POST /_emu/config              partial update of DEFAULT_CONFIG knobs
  GET|POST /_emu/clock               {"offset": s} or {"advance": s};
                                     {"clock": "REAL_MS:SIM_MS:SCALE"} or
                                     {"clock": null} (back to real time)
  GET|POST /_emu/users               {"name", "display_name", optional
                                     bio_description, is_verified,
                                     follower_count, following_count,
                                     likes_count} -> {"open_id", ...}
  POST /_emu/login                   {"user", "deny": bool, "scopes": [..]}
                                     (user null: nobody logged in)
  GET|POST /_emu/videos              {"user", "videos": [{...}]} add or
                                     replace by id; GET ?user=NAME
  POST /_emu/videos/generate         {"user", "count", "newest", "step",
                                     "seed", "formats"} -> {"count", "total"}
  POST /_emu/videos/update           {"user", "id", fields..., "new_cover"}
  POST /_emu/videos/delete|hide|unhide  {"user", "ids": [...]}
  POST /_emu/videos/pin              {"user", "ids": [...]}: at most 3
                                     videos listed first on video/list's
                                     first page (and again at their place)
  POST /_emu/tokens/expire           {"user", "access": true, "refresh":
                                     false, "code": false}
  POST /_emu/tokens/revoke           {"user"}: all the user's grants
  GET|POST /_emu/faults              {"faults": [rule, ...]} appends
  POST /_emu/faults/clear
  GET  /_emu/state[?user=&videos=0&covers=0]   the truth, no tokens
  GET  /_emu/counters, POST /_emu/counters/reset
  GET  /_emu/log?since=SEQ           recent requests (Authorization redacted)

Video fields a test may set: id (any non-empty string; default a unique
19-digit id), create_time (required, or ts in ms), ms (0..999), title,
video_description, duration, width, height, like_count, comment_count,
share_count, view_count, is_aigc, cover_format (jpeg|png|webp),
cover_version, cover_key (videos sharing a key share cover bytes), hidden,
share_url / embed_link / embed_html (override the derived values),
raw_title_json / raw_description_json (a JSON value spliced verbatim into
the API output, e.g. '"\\ud800 lone"'; characters U+DC80..U+DCFF in it go
out as the single raw bytes 0x80..0xFF, to send invalid UTF-8),
raw_members_json (JSON object members, e.g. '"title":"again"', spliced
verbatim at the end of the API video object, to send duplicate keys),
extra (object merged into every API video object, to test unknown fields).

Fault rule: {"path": prefix, "kind", "user", "times" (default 1, -1 =
forever), "after" (skip the first N matching requests), "prob" (0..1),
"seed"} plus the kind's parameters. Every matching delay rule applies; of
the other rules the first matching one fires. Kinds: status {status, code,
message, retry_after}, oauth_error {error, error_description, status},
delay {ms, jitter_ms}, drip {bytes_per_sec}, hang, truncate, invalid_json
{variant: truncated|garbage|html|empty|trailing|unterminated_string|
bad_escape}, wrong_shape {variant: videos_object|id_number|cursor_string|
data_array|error_string|top_array|deep_nesting}, drop, short_page {n},
empty_page, cursor_stuck, internal_error, cover_html, cover_badmagic,
cover_empty, cover_huge {bytes, chunked}, expired.
"""
import argparse
import base64
import bisect
import collections
import hashlib
import hmac
import html
import json
import os
import random
import re
import secrets
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

DEFAULT_CONFIG = {
    "client_key": "awtestclientkey0",
    "client_secret": "test-client-secret",
    "redirect_uris": ["http://127.0.0.1:8723/callback/"],
    "access_ttl": 86400,
    "refresh_ttl": 31536000,
    "code_ttl": 300,
    "cover_ttl": 21600,
    "oauth_error_status": 200,
    "rotation": "strict",
    "rate_limit": 600,
    "rate_limit_retry_after": None,
    # /oembed's own one-minute window (0: unlimited).
    "oembed_rate_limit": 600,
    # Marker put into every issued token ("act.<marker>..."), so tests can
    # grep logs and databases for leaked tokens.
    "token_marker": "",
    # Upper bound on how long a "hang" fault (or /_emu/raw/hang) holds a
    # connection when the client does not give up.
    "hang_max": 300,
    # Seconds of the sliding rate window (TikTok: one minute). Tests shrink
    # it so that waiting a window out costs seconds.
    "rate_window": 60,
    # video/query returns videos made private ("Only me"; hidden here).
    # TikTok documents it neither way; false omits them like unknown ids.
    "query_private": True,
    # An inclusive cursor: video/list also returns the video whose
    # timestamp equals the cursor, so a page repeats the previous page's
    # last video (tiktok-api.md, corrections: "a client must tolerate").
    "cursor_inclusive": False,
    # Scopes the app is approved for (None: all known). Asking for another
    # fails the whole consent with invalid_scope, as TikTok does.
    "approved_scopes": None,
}

KNOWN_SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats",
                "video.list")

USER_FIELDS_BASIC = ("open_id", "union_id", "avatar_url", "avatar_url_100",
                     "avatar_large_url", "display_name")
USER_FIELDS_PROFILE = ("bio_description", "profile_deep_link", "is_verified",
                       "username")
USER_FIELDS_STATS = ("follower_count", "following_count", "likes_count",
                     "video_count")

VIDEO_FIELDS = ("id", "create_time", "cover_image_url", "share_url",
                "video_description", "duration", "height", "width", "title",
                "embed_html", "embed_link", "like_count", "comment_count",
                "share_count", "view_count", "is_aigc")

BOOL_CONFIG = ("query_private", "cursor_inclusive")
RATE_LIMITED = ("/v2/user/info/", "/v2/video/list/", "/v2/video/query/")
OEMBED_PATH = "/oembed"
# The video addresses TikTok's oEmbed takes (the handle is not checked).
OEMBED_URL_RE = re.compile(
    r"^https?://(?:www\.|m\.)?tiktok\.com/(?:@[^/?#]+/video/(\d{1,20})/?"
    r"|v/(\d{1,20})\.html)(?:[?#].*)?$", re.IGNORECASE)
OAUTH_PATHS = ("/v2/oauth/token/", "/v2/oauth/revoke/", "/v2/auth/authorize/")
DATA_PATHS = RATE_LIMITED

FAULT_KINDS = ("status", "oauth_error", "delay", "drip", "hang", "truncate",
               "invalid_json", "wrong_shape", "drop", "short_page",
               "empty_page", "cursor_stuck", "internal_error", "cover_html",
               "cover_badmagic", "cover_empty", "cover_huge", "expired")
PAGE_KINDS = ("short_page", "empty_page", "cursor_stuck")

DATA_MESSAGES = {
    "ok": "",
    "access_token_invalid":
        "Access token is invalid, please refresh token and retry",
    "scope_not_authorized":
        "The user did not authorize the scope required for completing this "
        "request.",
    "scope_permission_missed":
        "Access token is invalid, some fields need additional scopes",
    "invalid_params": "One or more of the fields in the request is invalid.",
    "rate_limit_exceeded": "API rate limit exceeded, please retry later.",
    "internal_error": "Something went wrong. Please try again later.",
    "not_found": "Not found.",
}
CODE_FOR_STATUS = {400: "invalid_params", 401: "access_token_invalid",
                   403: "scope_not_authorized", 404: "not_found",
                   429: "rate_limit_exceeded"}

IMAGE_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

MAX_BODY = 256 * 1024 * 1024
MAX_STREAM = 1 << 34
IDLE_TIMEOUT = 120
HANDSHAKE_TIMEOUT = 10
LOG_MAX = 20000

# --------------------------------------------------------------------------
# Images: small, real, decodable, unique per (key, version)
# --------------------------------------------------------------------------


def _png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def make_png(w, h, rgb, rgb2, text):
    """A w x h RGB PNG: colour rgb with diagonal stripes of rgb2, and a
    tEXt Comment chunk holding text (so bytes are unique per video)."""
    rows = []
    for y in range(h):
        row = bytearray(b"\x00")
        for x in range(w):
            row += bytes(rgb2 if (x + y) % 8 < 2 else rgb)
        rows.append(bytes(row))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"tEXt", b"Comment\x00" + text)
            + _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _png_chunk(b"IEND", b""))


def _jpeg_seg(marker, data):
    return bytes((0xFF, marker)) + struct.pack(">H", len(data) + 2) + data


def make_jpeg(w, h, rgb, comment):
    """A baseline YCbCr JPEG of one solid colour, with a COM segment.

    Every block holds only a DC coefficient; the quantiser is 8 so the DC
    value is the level-shifted sample. Huffman tables are minimal: DC
    categories 0..11 as 4-bit codes, AC only EOB as the 1-bit code '0'."""
    r, g, b = rgb
    ycc = (0.299 * r + 0.587 * g + 0.114 * b,
           128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
           128 + 0.5 * r - 0.418688 * g - 0.081312 * b)
    dc = [max(-127, min(127, int(round(v)) - 128)) for v in ycc]
    out = bytearray(b"\xff\xd8")
    out += _jpeg_seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    out += _jpeg_seg(0xFE, comment)
    out += _jpeg_seg(0xDB, b"\x00" + b"\x08" * 64)
    out += _jpeg_seg(0xC0, struct.pack(">BHHB", 8, h, w, 3)
                     + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00")
    out += _jpeg_seg(0xC4, b"\x00" + bytes([0, 0, 0, 12] + [0] * 12)
                     + bytes(range(12)))
    out += _jpeg_seg(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
    out += _jpeg_seg(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
    acc, nbits = 0, 0
    scan = bytearray()

    def put(v, n):
        nonlocal acc, nbits
        acc = (acc << n) | (v & ((1 << n) - 1))
        nbits += n
        while nbits >= 8:
            nbits -= 8
            byte = (acc >> nbits) & 0xFF
            scan.append(byte)
            if byte == 0xFF:
                scan.append(0)
        acc &= (1 << nbits) - 1

    blocks = ((w + 7) // 8) * ((h + 7) // 8)
    for blk in range(blocks):
        for c in range(3):
            d = dc[c] if blk == 0 else 0
            s = abs(d).bit_length()
            put(s, 4)
            if s:
                put(d if d > 0 else d + (1 << s) - 1, s)
            put(0, 1)  # EOB
    if nbits:
        put((1 << (8 - nbits)) - 1, 8 - nbits)
    out += scan
    out += b"\xff\xd9"
    return bytes(out)


def make_webp(w, h, rgb, text):
    """An extended-format (VP8X) lossless WebP of one solid colour plus an
    XMP chunk holding text. The VP8L stream uses five single-symbol simple
    prefix codes, so the pixels themselves take no bits."""
    acc, nbits = 0, 0
    data = bytearray()

    def put(v, n):
        nonlocal acc, nbits
        acc |= (v & ((1 << n) - 1)) << nbits
        nbits += n
        while nbits >= 8:
            data.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    put(0x2F, 8)
    put(w - 1, 14)
    put(h - 1, 14)
    put(0, 1)  # alpha_is_used
    put(0, 3)  # version
    put(0, 1)  # no transform
    put(0, 1)  # no colour cache
    put(0, 1)  # no meta prefix codes
    r, g, b = rgb
    for sym in (g, r, b, 255, 0):
        put(1, 1)  # simple code
        put(0, 1)  # one symbol
        put(1, 1)  # 8-bit symbol
        put(sym, 8)
    if nbits:
        put(0, 8 - nbits)

    def chunk(kind, payload):
        payload = bytes(payload)
        return (kind + struct.pack("<I", len(payload)) + payload
                + (b"\x00" if len(payload) % 2 else b""))

    vp8x = (bytes([0x04, 0, 0, 0]) + struct.pack("<I", w - 1)[:3]
            + struct.pack("<I", h - 1)[:3])
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><!-- ' + text
           + b' --></x:xmpmeta>')
    body = (b"WEBP" + chunk(b"VP8X", vp8x) + chunk(b"VP8L", data)
            + chunk(b"XMP ", xmp))
    return b"RIFF" + struct.pack("<I", len(body)) + body


def make_image(fmt, key, version):
    """Cover bytes for (key, version) in format fmt; deterministic."""
    d = hashlib.sha256(("%s:%s" % (key, version)).encode("utf-8",
                                                          "replace")).digest()
    rgb, rgb2 = tuple(d[0:3]), tuple(d[3:6])
    text = ("tiktok-mirror emulator %s v%s" % (key, version)).encode(
        "ascii", "backslashreplace")
    if fmt == "png":
        return make_png(16, 16, rgb, rgb2, text)
    if fmt == "webp":
        return make_webp(16, 16, rgb, text)
    return make_jpeg(16, 16, rgb, text)


# --------------------------------------------------------------------------
# Throw-away CA and server certificate (openssl CLI, EC P-256)
# --------------------------------------------------------------------------

_CA_CNF = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = tiktok-mirror emulator test CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_SRV_CNF = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
[v3_srv]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
"""


def make_certs(d):
    """Create ca.pem/ca.key and server.pem/server.key in d; return paths."""
    def run(*args):
        p = subprocess.run(["openssl"] + list(args), cwd=d, timeout=60,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (
                args[0], p.stderr.decode("utf-8", "replace")))

    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(_CA_CNF)
    with open(os.path.join(d, "server.cnf"), "w") as f:
        f.write(_SRV_CNF)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "30", "-config", "ca.cnf", "-extensions", "v3_ca")
    run("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
        "-config", "server.cnf")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
        "ca.key", "-set_serial", "0x" + secrets.token_hex(8), "-days", "30",
        "-out", "server.pem", "-extfile", "server.cnf", "-extensions",
        "v3_srv")
    for name in ("ca.key", "server.key"):
        os.chmod(os.path.join(d, name), 0o600)
    return (os.path.join(d, "ca.pem"), os.path.join(d, "server.pem"),
            os.path.join(d, "server.key"))


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------


class ApiError(Exception):
    """A control-interface error: HTTP status and message."""

    def __init__(self, message, status=400):
        Exception.__init__(self, message)
        self.status = status


class Video:
    __slots__ = ("id", "ts", "title", "description", "duration", "width",
                 "height", "like_count", "comment_count", "share_count",
                 "view_count", "cover_format", "cover_version", "cover_key",
                 "hidden", "is_aigc", "over")

    @property
    def create_time(self):
        return self.ts // 1000


# Fields a control request may set on a video, with their types.
VIDEO_INPUT = {
    "id": str, "create_time": int, "ts": int, "ms": int, "title": str,
    "video_description": str, "description": str, "duration": int,
    "width": int, "height": int, "like_count": int, "comment_count": int,
    "share_count": int, "view_count": int, "cover_format": str,
    "cover_version": int, "cover_key": str, "hidden": bool, "is_aigc": bool,
    "share_url": str, "embed_link": str, "embed_html": str,
    "raw_title_json": str, "raw_description_json": str,
    "raw_members_json": str, "extra": dict,
    "new_cover": bool,
}
OVERRIDES = ("share_url", "embed_link", "embed_html", "raw_title_json",
             "raw_description_json", "raw_members_json", "extra")


class User:
    def __init__(self, name, display_name, open_id, union_id):
        self.name = name
        self.display_name = display_name
        self.open_id = open_id
        self.union_id = union_id
        self.key = hashlib.sha256(open_id.encode()).hexdigest()[:16]
        self.profile = {"bio_description": "", "is_verified": False,
                        "follower_count": 0, "following_count": 0,
                        "likes_count": 0}
        self.by_id = {}
        self.ts_set = set()
        self.order = []   # videos, newest first
        self.keys = []    # -ts of self.order, ascending
        self.pinned = []  # ids listed first on video/list's first page
        self.dirty = False

    def ensure_sorted(self):
        if self.dirty:
            self.order = sorted(self.by_id.values(), key=lambda v: -v.ts)
            self.keys = [-v.ts for v in self.order]
            self.dirty = False


class Grant:
    __slots__ = ("id", "user", "scope", "created", "refresh_expires_at",
                 "revoked")


def _jdump(obj):
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"))


class Resp:
    """A response, plus how to deliver it (transport faults)."""

    def __init__(self, status=200, body=b"", ctype="application/json",
                 headers=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers or [])
        self.stream = None      # iterator of byte chunks instead of body
        self.length = None      # Content-Length of stream; None = chunked
        self.transport = None   # drip | truncate | hang | drop | close
        self.rate = 0           # drip bytes per second
        self.delay = 0.0        # seconds to wait before answering
        self.fault = None       # fault kind, for the log


def json_resp(obj, status=200, headers=None):
    return Resp(status, _jdump(obj).encode("ascii"), headers=headers)


def text_resp(text, status=200, ctype="text/plain; charset=utf-8"):
    return Resp(status, text.encode("utf-8"), ctype)


class Req:
    __slots__ = ("method", "path", "query", "headers", "body", "scheme",
                 "host", "form", "json", "client")

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default


def _int_arg(v, name, lo=None, hi=None):
    if isinstance(v, bool) or not isinstance(v, int):
        raise ApiError("%s must be an integer" % name)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ApiError("%s out of range" % name)
    return v


# Generated content: deliberately awkward text.
_GEN_PIECES = (
    "Sunset at the beach \U0001F305", "\u65e5\u672c\u8a9e\u306e\u30bf\u30a4"
    "\u30c8\u30eb", 'He said "hi" to me', "line one\nline two",
    "tab\tseparated", "family \U0001F469\u200D\U0001F469\u200D\U0001F467",
    "\u00dcn\u00efc\u00f6d\u00e9 caf\u00e9", "back\\slash path",
    "<b>bold</b> & <i>amp</i>", "\u4e2d\u6587\u6807\u9898\u6d4b\u8bd5",
    "\ud55c\uad6d\uc5b4 \uc81c\ubaa9", "\u0627\u0644\u0639\u0631\u0628\u064a"
    "\u0629", "\U0001F525\U0001F525\U0001F525", "#fyp #viral #foryou",
    "it's 'quoted'", "math \u2211 \u221e \u2260", "\U0001F44D\U0001F3FD ok",
    "plain ascii words here", "carriage\r\nreturn", "slash / and ? and %20",
)


class App:
    """All emulator state, behind one lock."""

    def __init__(self, verbose=False, clock=None):
        self.lock = threading.RLock()
        self.verbose = verbose
        self.default_clock = clock  # (real_ms, sim_ms, scale) or None
        self.stopping = threading.Event()
        self.sign_key = secrets.token_bytes(32)
        self.ports = {}
        self.reset()

    # ---- state ---------------------------------------------------------

    def reset(self):
        with self.lock:
            self.config = json.loads(json.dumps(DEFAULT_CONFIG))
            self.offset = 0.0
            self.clock = self.default_clock
            self.users = {}
            self.users_by_key = {}
            self.all_ids = set()
            self.id_seq = 0
            self.login = None
            self.codes = {}
            self.grants = []
            self.access = {}    # token -> [grant, expires_at]
            self.refresh = {}   # token -> [grant, alive]
            self.faults = []
            self.fault_seq = 0
            self.rng = random.Random(0)
            self.rate = {}      # path -> deque of accepted request times
            self.arrivals = {}  # path -> deque of all request times
            self.cover_cache = {}
            self.log = collections.deque(maxlen=LOG_MAX)
            self.log_seq = 0
            self.reset_counters()

    def reset_counters(self):
        with self.lock:
            self.counters = {"paths": {}, "cdn": 0, "cdn_served": 0,
                             "by_user": {}, "status": {},
                             "oauth": {"authorization_code": 0,
                                       "refresh_token": 0, "revoke": 0,
                                       "authorize": 0},
                             "window_peak": {}}

    def now(self):
        c = self.clock
        if c is None:
            return time.time() + self.offset
        real0, sim0, scale = c
        return (sim0 + (time.time() * 1000.0 - real0) * scale) / 1000.0 + \
            self.offset

    def log_id(self):
        return time.strftime("%Y%m%d%H%M%S", time.gmtime(self.now())) + \
            secrets.token_hex(10).upper()

    def user(self, name):
        if not isinstance(name, str) or name not in self.users:
            raise ApiError("unknown user %r" % (name,))
        return self.users[name]

    def new_token(self, prefix):
        return "%s.%s%s" % (prefix, self.config["token_marker"],
                            secrets.token_urlsafe(32))

    # ---- videos --------------------------------------------------------

    def _gen_id(self, ts):
        for _ in range(100000):
            self.id_seq += 1
            raw = ((ts // 1000) << 32) | ((ts % 1000) << 22) | \
                (self.id_seq & 0x3FFFFF)
            if not 10 ** 18 <= raw < 9 * 10 ** 18:
                raw = 10 ** 18 + raw % (8 * 10 ** 18)
            vid = str(raw)
            if vid not in self.all_ids:
                return vid
        raise ApiError("could not make a unique video id", 500)

    def _free_ts(self, u, ts, own=None):
        """ts itself, or the next free millisecond in the same second."""
        base = ts - ts % 1000
        ms = ts % 1000
        for i in range(1000):
            cand = base + (ms + i) % 1000
            if cand not in u.ts_set or cand == own:
                return cand
        raise ApiError("more than 1000 videos in second %d" % (base // 1000))

    def _apply_fields(self, u, v, d, fresh):
        """Set fields from control dict d on video v (fresh: defaults)."""
        for k, val in d.items():
            if k == "user":
                continue
            t = VIDEO_INPUT.get(k)
            if t is None:
                raise ApiError("unknown video field %r" % k)
            if t is int and (isinstance(val, bool)
                             or not isinstance(val, int)):
                raise ApiError("video field %r must be an integer" % k)
            if t is not int and not isinstance(val, t):
                raise ApiError("video field %r must be %s" % (k, t.__name__))
        if fresh:
            v.title = ""
            v.description = ""
            v.duration = 15
            v.width = 1080
            v.height = 1920
            v.like_count = v.comment_count = v.share_count = 0
            v.view_count = 0
            v.cover_format = "jpeg"
            v.cover_version = 1
            v.cover_key = None
            v.hidden = False
            v.is_aigc = False
            v.over = None
        for k in ("title", "duration", "width", "height", "like_count",
                  "comment_count", "share_count", "view_count",
                  "cover_version", "cover_key", "hidden", "is_aigc"):
            if k in d:
                setattr(v, k, d[k])
        if "video_description" in d:
            v.description = d["video_description"]
        elif "description" in d:
            v.description = d["description"]
        if "cover_format" in d:
            if d["cover_format"] not in IMAGE_TYPES:
                raise ApiError("cover_format must be jpeg, png or webp")
            v.cover_format = d["cover_format"]
        if d.get("new_cover"):
            v.cover_version += 1
        for k in OVERRIDES:
            if k in d:
                if v.over is None:
                    v.over = {}
                v.over[k] = d[k]
        for k in ("raw_title_json", "raw_description_json"):
            if v.over and k in v.over:
                try:
                    json.loads(v.over[k])
                except ValueError:
                    raise ApiError("%s must be one JSON value" % k)
        if v.over and v.over.get("raw_members_json"):
            try:
                json.loads("{%s}" % v.over["raw_members_json"])
            except ValueError:
                raise ApiError("raw_members_json must be JSON object members")

    def _want_ts(self, d, old=None):
        if "ts" in d:
            return d["ts"]
        if "create_time" in d:
            ms = d.get("ms", 0 if old is None else old % 1000)
            if not 0 <= ms <= 999:
                raise ApiError("ms must be 0..999")
            return d["create_time"] * 1000 + ms
        if old is not None:
            return old
        raise ApiError("a video needs create_time (or ts)")

    def add_video(self, u, d):
        if not isinstance(d, dict):
            raise ApiError("each video must be an object")
        vid = d.get("id")
        if vid is not None and (not isinstance(vid, str) or vid == ""):
            raise ApiError("id must be a non-empty string")
        old = u.by_id.get(vid) if vid is not None else None
        want = self._want_ts(d)
        if want < 0:
            raise ApiError("create_time must not be negative")
        v = Video()
        self._apply_fields(u, v, d, True)
        if old is not None:
            v.cover_version = d.get("cover_version", old.cover_version) + \
                (1 if d.get("new_cover") else 0)
            u.ts_set.discard(old.ts)
        v.ts = self._free_ts(u, want)
        v.id = vid if vid is not None else self._gen_id(v.ts)
        u.ts_set.add(v.ts)
        u.by_id[v.id] = v
        self.all_ids.add(v.id)
        u.dirty = True
        return v

    def update_video(self, u, d):
        vid = d.get("id")
        v = u.by_id.get(vid)
        if v is None:
            raise ApiError("unknown video %r for %s" % (vid, u.name), 404)
        want = self._want_ts(d, v.ts)
        self._apply_fields(u, v, {k: x for k, x in d.items() if k != "id"},
                           False)
        if want != v.ts:
            u.ts_set.discard(v.ts)
            v.ts = self._free_ts(u, want)
            u.ts_set.add(v.ts)
            u.dirty = True
        return v

    def delete_video(self, u, vid):
        v = u.by_id.pop(vid, None)
        if v is None:
            return False
        u.ts_set.discard(v.ts)
        u.dirty = True
        return True

    def generate(self, u, count, newest, step, seed, formats):
        rng = random.Random(seed)
        pieces = _GEN_PIECES
        npieces = len(pieces)
        for i in range(count):
            parts = [pieces[rng.randrange(npieces)]
                     for _ in range(rng.randint(1, 4))]
            title = " ".join(parts)[:150]
            desc = (" ".join(pieces[rng.randrange(npieces)]
                             for _ in range(rng.randint(0, 6))))[:150]
            if rng.random() < 0.1:
                views = rng.randint(2 ** 31, 2 ** 40)
            else:
                views = rng.randint(0, 5000000)
            v = Video()
            v.title = title
            v.description = desc
            v.duration = rng.randint(3, 600)
            if rng.random() < 0.8:
                v.width, v.height = 1080, 1920
            else:
                v.width, v.height = 720, 1280
            v.like_count = rng.randint(0, views // 10 + 1)
            v.comment_count = rng.randint(0, 10000)
            v.share_count = rng.randint(0, 10000)
            v.view_count = views
            v.cover_format = formats[i % len(formats)]
            v.cover_version = 1
            v.cover_key = None
            v.hidden = False
            v.is_aigc = False
            v.over = None
            ts = (newest - i * step) * 1000 + rng.randrange(1000)
            if ts < 0:
                break
            if ts in u.ts_set:
                ts = self._free_ts(u, ts)
            v.ts = ts
            v.id = self._gen_id(ts)
            u.ts_set.add(ts)
            u.by_id[v.id] = v
            self.all_ids.add(v.id)
        u.dirty = True

    # ---- rendering -----------------------------------------------------

    def cover_url(self, req, u, v):
        exp = int(self.now()) + int(self.config["cover_ttl"])
        # Dots are escaped too so that "." or ".." ids survive a client's
        # dot-segment removal.
        path = "/cdn/%s/%s/%d~tplv-noop.image" % (
            u.key, urllib.parse.quote(v.id, safe="").replace(".", "%2E"),
            v.cover_version)
        return "%s://%s%s?x-expires=%d&x-signature=%s" % (
            req.scheme, req.host, path, exp, self.sign(path, exp))

    def avatar_url(self, req, u, size):
        exp = int(self.now()) + int(self.config["cover_ttl"])
        path = "/cdn/%s/avatar/%d~c5_%dx%d.jpeg" % (u.key, size, size, size)
        return "%s://%s%s?x-expires=%d&x-signature=%s" % (
            req.scheme, req.host, path, exp, self.sign(path, exp))

    def sign(self, path, exp):
        return hmac.new(self.sign_key, ("%s?%d" % (path, exp)).encode(),
                        hashlib.sha256).hexdigest()

    def share_url(self, u, v):
        if v.over and "share_url" in v.over:
            return v.over["share_url"]
        return ("https://www.tiktok.com/@%s/video/%s?utm_campaign=tt4d_open_"
                "api&utm_source=%s" % (u.name, v.id,
                                       self.config["client_key"]))

    def embed_link(self, u, v):
        if v.over and "embed_link" in v.over:
            return v.over["embed_link"]
        return ("https://www.tiktok.com/static/profile-video?id=%s&hide_autho"
                "r=1&utm_campaign=tt4d_open_api&utm_source=%s" % (
                    v.id, self.config["client_key"]))

    def embed_html(self, u, v):
        if v.over and "embed_html" in v.over:
            return v.over["embed_html"]
        cite = "https://www.tiktok.com/@%s/video/%s" % (u.name, v.id)
        return ('<blockquote class="tiktok-embed" cite="%s" data-video-id="%s"'
                ' style="max-width: 605px;min-width: 325px;" > <section> '
                '<a target="_blank" title="@%s" href="https://www.tiktok.com/'
                '@%s?refer=embed">@%s</a> %s </section> </blockquote> '
                '<script async src="https://www.tiktok.com/embed.js"></script>'
                % (html.escape(cite), html.escape(v.id), html.escape(u.name),
                   html.escape(u.name), html.escape(u.name),
                   html.escape(v.title)))

    def video_obj(self, req, u, v, fields, raws):
        """The API object for v with only fields; raw JSON overrides are
        recorded in raws (placeholder -> literal) for splice_raw."""
        o = {}
        for f in fields:
            if f == "id":
                o[f] = v.id
            elif f == "create_time":
                o[f] = v.ts // 1000
            elif f == "cover_image_url":
                o[f] = self.cover_url(req, u, v)
            elif f == "share_url":
                o[f] = self.share_url(u, v)
            elif f == "video_description":
                o[f] = v.description
            elif f == "title":
                o[f] = v.title
            elif f == "embed_html":
                o[f] = self.embed_html(u, v)
            elif f == "embed_link":
                o[f] = self.embed_link(u, v)
            elif f == "is_aigc":
                o[f] = v.is_aigc
            else:
                o[f] = getattr(v, f)
        if v.over:
            for f, raw_key in (("title", "raw_title_json"),
                               ("video_description", "raw_description_json")):
                if f in o and raw_key in v.over:
                    ph = "\x00emu-raw-%d\x00" % len(raws)
                    raws[_jdump(ph)] = v.over[raw_key]
                    o[f] = ph
            if "extra" in v.over:
                for k, x in v.over["extra"].items():
                    o.setdefault(k, x)
            if v.over.get("raw_members_json"):
                # A last member whose "key":value text becomes the raw text.
                ph = "\x00emu-raw-%d\x00" % len(raws)
                o[ph] = 0
                raws["%s:0" % _jdump(ph)] = v.over["raw_members_json"]
        return o

    def cover_bytes(self, v, version=None):
        key = v.cover_key if v.cover_key is not None else v.id
        ver = v.cover_version if version is None else version
        return make_image(v.cover_format, key, ver)

    def cover_digest(self, v):
        key = (v.cover_key if v.cover_key is not None else v.id,
               v.cover_version, v.cover_format)
        hit = self.cover_cache.get(key)
        if hit is None:
            b = self.cover_bytes(v)
            hit = (hashlib.sha256(b).hexdigest(), len(b))
            if len(self.cover_cache) > 200000:
                self.cover_cache.clear()
            self.cover_cache[key] = hit
        return hit

    def video_state(self, u, v, covers=True):
        o = {"id": v.id, "create_time": v.ts // 1000, "ts": v.ts,
             "title": v.title, "video_description": v.description,
             "duration": v.duration, "width": v.width, "height": v.height,
             "like_count": v.like_count, "comment_count": v.comment_count,
             "share_count": v.share_count, "view_count": v.view_count,
             "share_url": self.share_url(u, v),
             "embed_link": self.embed_link(u, v),
             "embed_html": self.embed_html(u, v), "is_aigc": v.is_aigc,
             "cover_format": v.cover_format,
             "cover_version": v.cover_version, "hidden": v.hidden}
        if v.cover_key is not None:
            o["cover_key"] = v.cover_key
        if covers:
            o["cover_sha256"], o["cover_len"] = self.cover_digest(v)
        if v.over:
            for k in ("raw_title_json", "raw_description_json",
                      "raw_members_json", "extra"):
                if k in v.over:
                    o[k] = v.over[k]
            for f, k in (("title", "raw_title_json"),
                         ("video_description", "raw_description_json")):
                if k in v.over:
                    val = json.loads(v.over[k])
                    o[f] = val
        return o

    # ---- tokens --------------------------------------------------------

    def token_grant(self, token):
        """(grant, reason) for a Bearer access token."""
        ent = self.access.get(token)
        if ent is None:
            return None, "unknown"
        g, exp = ent
        if g.revoked:
            return None, "revoked"
        if self.now() >= exp:
            return None, "expired"
        return g, "ok"

    def issue(self, g, refresh_token=None):
        now = self.now()
        at = self.new_token("act")
        self.access[at] = [g, now + int(self.config["access_ttl"])]
        if refresh_token is None:
            refresh_token = self.new_token("rft")
            self.refresh[refresh_token] = [g, True]
        u = self.users[g.user]
        return {"access_token": at,
                "expires_in": int(self.config["access_ttl"]),
                "open_id": u.open_id,
                "refresh_expires_in": max(
                    0, int(round(g.refresh_expires_at - now))),
                "refresh_token": refresh_token,
                "scope": g.scope,
                "token_type": "Bearer"}

    # ---- faults --------------------------------------------------------

    def add_fault(self, rule):
        if not isinstance(rule, dict):
            raise ApiError("a fault rule must be an object")
        path = rule.get("path", "/")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ApiError("fault path must start with /")
        kind = rule.get("kind")
        if kind not in FAULT_KINDS:
            raise ApiError("unknown fault kind %r (known: %s)" % (
                kind, ", ".join(FAULT_KINDS)))
        r = dict(rule)
        r["path"] = path
        r["times"] = _int_arg(rule.get("times", 1), "times", -1)
        r["after"] = _int_arg(rule.get("after", 0), "after", 0)
        if r.get("user") is not None and not isinstance(r["user"], str):
            raise ApiError("fault user must be a user name")
        prob = rule.get("prob", 1.0)
        if not isinstance(prob, (int, float)) or not 0 <= prob <= 1:
            raise ApiError("prob must be 0..1")
        if "seed" in rule:
            r["_rng"] = random.Random(rule["seed"])
        self.fault_seq += 1
        r["id"] = self.fault_seq
        r["seen"] = 0
        r["fired"] = 0
        self.faults.append(r)
        return r

    def fault_view(self):
        return [{k: x for k, x in r.items() if not k.startswith("_")}
                for r in self.faults]

    def pick_faults(self, path, user):
        """(total delay in seconds, the one non-delay rule or None) for a
        request; every delay rule that fires adds up, then the first other
        rule that matches and has times left wins."""
        delay, main = 0.0, None
        for r in self.faults:
            if r["times"] == 0 or not path.startswith(r["path"]):
                continue
            if r.get("user") is not None and r["user"] != user:
                continue
            if main is not None and r["kind"] != "delay":
                continue
            r["seen"] += 1
            if r["seen"] <= r["after"]:
                continue
            prob = r.get("prob", 1.0)
            if prob < 1.0:
                rng = r.get("_rng", self.rng)
                if rng.random() >= prob:
                    continue
            if r["times"] > 0:
                r["times"] -= 1
            r["fired"] += 1
            if r["kind"] == "delay":
                ms = max(0, min(float(r.get("ms", 1000)), 600000.0))
                jit = float(r.get("jitter_ms", 0) or 0)
                if jit:
                    rng = r.get("_rng", self.rng)
                    ms = max(0.0, ms + rng.uniform(-jit, jit))
                delay += ms / 1000.0
            else:
                main = r
        return delay, main

    # ---- request entry -------------------------------------------------

    def handle(self, req):
        path = req.path
        if path.startswith("/_emu/") and not path.startswith("/_emu/raw/"):
            with self.lock:
                try:
                    return self.control(req)
                except ApiError as e:
                    return json_resp({"error": str(e)}, e.status)
        with self.lock:
            user = self.request_user(req)
            self.count(req, user)
            delay, fault = self.pick_faults(path, user)
            resp = self.route(req, user, fault)
            resp.delay += delay
            if fault is not None:
                resp.fault = fault["kind"]
            self.finish(req, user, resp)
            return resp

    def request_user(self, req):
        """The emulated user a request acts for, or None."""
        p = req.path
        try:
            if p in DATA_PATHS:
                tok = bearer(req)
                ent = self.access.get(tok) if tok else None
                return ent[0].user if ent else None
            if p == "/v2/oauth/token/":
                f = req.form
                if "code" in f:
                    c = self.codes.get(f["code"])
                    return c["user"] if c else None
                if "refresh_token" in f:
                    ent = self.refresh.get(f["refresh_token"])
                    return ent[0].user if ent else None
            if p == "/v2/oauth/revoke/":
                ent = self.access.get(req.form.get("token", ""))
                return ent[0].user if ent else None
            if p == "/v2/auth/authorize/":
                return self.login["user"] if self.login else None
            if p == OEMBED_PATH:
                u, _ = self.oembed_video(req.q("url"))
                return u.name if u else None
            if p.startswith("/cdn/"):
                seg = p.split("/")
                if len(seg) > 2 and seg[2] in self.users_by_key:
                    return self.users_by_key[seg[2]].name
        except (KeyError, AttributeError, TypeError):
            return None
        return None

    def count(self, req, user):
        c = self.counters
        p = req.path
        if p.startswith("/cdn/"):
            key = "/cdn/"
            c["cdn"] += 1
        elif p in DATA_PATHS or p in OAUTH_PATHS or p == OEMBED_PATH or \
                p.startswith("/_emu/raw/"):
            key = p
        else:
            key = p if len(c["paths"]) < 1000 else "(other)"
        c["paths"][key] = c["paths"].get(key, 0) + 1
        if user is not None:
            bu = c["by_user"].setdefault(user, {})
            bu[key] = bu.get(key, 0) + 1
        if p in RATE_LIMITED or p == OEMBED_PATH:
            now = self.now()
            dq = self.arrivals.setdefault(p, collections.deque())
            dq.append(now)
            win = int(self.config["rate_window"])
            while dq and (dq[0] <= now - win or dq[0] > now + 1):
                dq.popleft()
            wp = c["window_peak"]
            wp[p] = max(wp.get(p, 0), len(dq))

    def finish(self, req, user, resp):
        c = self.counters
        if resp.transport not in ("hang", "drop"):
            k = str(resp.status)
            c["status"][k] = c["status"].get(k, 0) + 1
        self.log_seq += 1
        hdrs = {}
        for k, x in req.headers.items():
            lk = k.lower()
            if lk == "authorization":
                x = x.split(" ", 1)[0] + " <redacted>"
            hdrs[lk] = x[:200]
        ent = {"seq": self.log_seq, "t": round(self.now(), 3),
               "mono": round(time.monotonic(), 3), "scheme": req.scheme,
               "method": req.method, "path": req.path, "user": user,
               "status": None if resp.transport in ("hang", "drop")
               else resp.status, "fault": resp.fault, "headers": hdrs}
        if req.path in ("/v2/video/list/", "/v2/video/query/") and \
                isinstance(req.json, dict):
            ent["body"] = {k: x for k, x in req.json.items()
                           if k in ("cursor", "max_count", "filters")}
        if req.path == "/v2/oauth/token/":
            ent["grant_type"] = req.form.get("grant_type")
        self.log.append(ent)
        if self.verbose:
            sys.stderr.write("emulator: %s %s %s -> %s%s\n" % (
                req.scheme, req.method, req.path, ent["status"],
                " [%s]" % resp.fault if resp.fault else ""))

    # ---- routing -------------------------------------------------------

    def route(self, req, user, fault):
        p = req.path
        kind = fault["kind"] if fault else None
        if kind is not None:
            r = self.fault_response(req, fault)
            if r is not None:
                return r
        if p == "/v2/auth/authorize/":
            resp = self.authorize(req)
        elif p == "/v2/oauth/token/":
            resp = self.token(req)
        elif p == "/v2/oauth/revoke/":
            resp = self.revoke(req)
        elif p in DATA_PATHS:
            resp = self.data(req, fault)
        elif p.startswith("/cdn/"):
            resp = self.cdn(req)
        elif p == OEMBED_PATH:
            resp = self.oembed(req)
        elif p.startswith("/_emu/raw/"):
            resp = raw_endpoint(self, req)
        else:
            resp = json_resp({"error": "not found", "path": p}, 404)
        if kind == "drip":
            resp.transport = "drip"
            resp.rate = max(1, int(fault.get("bytes_per_sec", 10)))
        elif kind == "truncate":
            resp.transport = "truncate"
        return resp

    def fault_response(self, req, r):
        """The response a fault rule replaces the real one with, or None
        when the fault modifies the real response (delay, drip, truncate,
        page kinds)."""
        kind = r["kind"]
        p = req.path
        if kind in ("hang", "drop"):
            resp = Resp()
            resp.transport = kind
            return resp
        if kind == "status":
            status = int(r.get("status", 500))
            hdrs = []
            if r.get("retry_after") is not None:
                hdrs.append(("Retry-After", str(r["retry_after"])))
            if p in OAUTH_PATHS:
                code = r.get("code") or ("temporarily_unavailable"
                                         if status >= 500 else
                                         "invalid_request")
                return json_resp({"error": code, "error_description":
                                  r.get("message", "Injected error."),
                                  "log_id": self.log_id()}, status, hdrs)
            if p in DATA_PATHS:
                code = r.get("code") or CODE_FOR_STATUS.get(
                    status, "internal_error")
                return self.envelope_error(code, status, r.get("message"),
                                           hdrs)
            resp = text_resp(r.get("message", "injected status %d\n" % status),
                             status)
            resp.headers = hdrs
            return resp
        if kind == "oauth_error":
            return json_resp({"error": r.get("error", "invalid_grant"),
                              "error_description": r.get(
                                  "error_description",
                                  "Refresh token is invalid or expired."),
                              "log_id": self.log_id()},
                             int(r.get("status", 200)))
        if kind == "internal_error":
            return self.envelope_error("internal_error", 500, r.get("message"))
        if kind == "invalid_json":
            return invalid_json_resp(r.get("variant", "truncated"))
        if kind == "wrong_shape":
            return wrong_shape_resp(p, r.get("variant"), self.log_id())
        if kind == "expired":
            return text_resp("Forbidden: URL expired\n", 403)
        if kind == "cover_html":
            return Resp(200, b"<html><head><title>Access Denied</title></head>"
                        b"<body><h1>Access Denied</h1></body></html>\n",
                        "text/html; charset=utf-8")
        if kind == "cover_badmagic":
            return Resp(200, b"NOTANIMAGE" + bytes(range(256)) * 4,
                        r.get("content_type", "image/jpeg"))
        if kind == "cover_empty":
            return Resp(200, b"", r.get("content_type", "image/jpeg"))
        if kind == "cover_huge":
            n = max(0, min(int(r.get("bytes", 50 * 1024 * 1024)), MAX_STREAM))
            resp = Resp(200, b"", r.get("content_type", "image/jpeg"))
            resp.stream = huge_stream(n, self.stopping)
            resp.length = None if r.get("chunked") else n
            return resp
        return None

    # ---- OAuth ---------------------------------------------------------

    def oauth_error(self, error, description):
        return json_resp({"error": error, "error_description": description,
                          "log_id": self.log_id()},
                         int(self.config["oauth_error_status"]))

    def redirect_ok(self, uri):
        for reg in self.config["redirect_uris"]:
            if uri == reg:
                return True
            if ":*/" in reg:
                pre, post = reg.split(":*/", 1)
                if uri.startswith(pre + ":") and uri.endswith("/" + post):
                    port = uri[len(pre) + 1:len(uri) - len(post) - 1]
                    if port.isdigit() and "/" not in port:
                        return True
        return False

    def authorize(self, req):
        self.counters["oauth"]["authorize"] += 1
        if req.method != "GET":
            return text_resp("method not allowed\n", 405)
        q = {k: v[0] for k, v in req.query.items()}
        if q.get("client_key") != self.config["client_key"]:
            return json_resp({"error": "invalid_client",
                              "error_description": "client_key is invalid.",
                              "log_id": self.log_id()}, 400)
        redirect = q.get("redirect_uri", "")
        if not self.redirect_ok(redirect):
            return json_resp({"error": "invalid_request",
                              "error_description":
                              "redirect_uri is not registered.",
                              "log_id": self.log_id()}, 400)

        def back(params):
            sep = "&" if "?" in redirect else "?"
            loc = redirect + sep + urllib.parse.urlencode(params)
            return Resp(302, b"", "text/plain",
                        [("Location", loc), ("Cache-Control", "no-store")])

        state = q.get("state")

        def fail(err, desc):
            params = [("error", err), ("error_description", desc)]
            if state is not None:
                params.append(("state", state))
            return back(params)

        if q.get("response_type") != "code":
            return fail("unsupported_response_type",
                        "response_type must be code.")
        if not state:
            return fail("invalid_request", "The request is missing a required"
                        " parameter: state.")
        scopes = [s for s in q.get("scope", "").split(",")]
        if not q.get("scope") or any(s not in KNOWN_SCOPES for s in scopes):
            return fail("invalid_scope", "The scope is invalid.")
        approved = self.config["approved_scopes"]
        if approved is not None and any(s not in approved for s in scopes):
            # One unapproved scope fails the whole consent.
            return fail("invalid_scope", "The scope is not authorized for "
                        "this client.")
        challenge = q.get("code_challenge")
        if challenge is not None and q.get("code_challenge_method") != "S256":
            return fail("invalid_request",
                        "Code verifier or code challenge is invalid.")
        if not self.login:
            return json_resp({"error": "access_denied", "error_description":
                              "no browser user: POST /_emu/login first",
                              "log_id": self.log_id()}, 400)
        if self.login.get("deny"):
            return fail("access_denied", "The user denied the request.")
        granted = []
        allow = self.login.get("scopes")
        for s in scopes:
            if s not in granted and (allow is None or s in allow):
                granted.append(s)
        scope = ",".join(granted)
        code = "%s*%d!%04d.va" % (secrets.token_urlsafe(24),
                                  secrets.randbelow(10),
                                  secrets.randbelow(10000))
        self.codes[code] = {"user": self.login["user"], "scope": scope,
                            "redirect_uri": redirect, "challenge": challenge,
                            "expires": self.now() + int(
                                self.config["code_ttl"])}
        return back([("code", code), ("scopes", scope), ("state", state)])

    def client_ok(self, f):
        return (f.get("client_key") == self.config["client_key"]
                and f.get("client_secret") == self.config["client_secret"])

    def token(self, req):
        if req.method != "POST":
            return self.oauth_error("invalid_request",
                                    "The request method must be POST.")
        ctype = req.headers.get("Content-Type", "")
        if "json" in ctype.lower():
            return self.oauth_error("invalid_request",
                                    "The request parameters are malformed.")
        f = req.form
        gt = f.get("grant_type")
        if gt in self.counters["oauth"]:
            self.counters["oauth"][gt] += 1
        if not f.get("client_key"):
            return self.oauth_error("invalid_request", "The request is "
                                    "missing a required parameter.")
        if not f.get("client_secret"):
            return self.oauth_error("invalid_client",
                                    "Client secret is missed in request.")
        if not self.client_ok(f):
            return self.oauth_error("invalid_client",
                                    "Client key or secret is invalid.")
        now = self.now()
        if gt == "authorization_code":
            c = self.codes.get(f.get("code", ""))
            if c is None or c.get("used") or now >= c["expires"]:
                return self.oauth_error("invalid_grant",
                                        "Authorization code is expired.")
            if f.get("redirect_uri") != c["redirect_uri"]:
                return self.oauth_error(
                    "invalid_request", "Redirect_uri is not matched with the "
                    "uri when requesting code.")
            if c["challenge"] is not None:
                ver = f.get("code_verifier", "")
                got = hashlib.sha256(ver.encode("utf-8")).hexdigest()
                if not ver or not hmac.compare_digest(got, c["challenge"]):
                    return self.oauth_error(
                        "invalid_request",
                        "Code verifier or code challenge is invalid.")
            c["used"] = True
            g = Grant()
            g.id = len(self.grants) + 1
            g.user = c["user"]
            g.scope = c["scope"]
            g.created = now
            g.refresh_expires_at = now + int(self.config["refresh_ttl"])
            g.revoked = False
            self.grants.append(g)
            return json_resp(self.issue(g))
        if gt == "refresh_token":
            rt = f.get("refresh_token", "")
            ent = self.refresh.get(rt)
            if ent is None or not ent[1] or ent[0].revoked or \
                    now >= ent[0].refresh_expires_at:
                return self.oauth_error(
                    "invalid_grant", "Refresh token is invalid or expired.")
            g = ent[0]
            if self.config["rotation"] == "same":
                return json_resp(self.issue(g, rt))
            ent[1] = False
            return json_resp(self.issue(g))
        return self.oauth_error("unsupported_grant_type",
                                "The grant type is not supported.")

    def revoke(self, req):
        if req.method != "POST":
            return self.oauth_error("invalid_request",
                                    "The request method must be POST.")
        f = req.form
        self.counters["oauth"]["revoke"] += 1
        if not self.client_ok(f):
            return self.oauth_error("invalid_client",
                                    "Client key or secret is invalid.")
        g, why = self.token_grant(f.get("token", ""))
        if g is None:
            return self.oauth_error("invalid_request",
                                    "The access token is invalid or expired.")
        g.revoked = True
        return json_resp({})

    # ---- data endpoints ------------------------------------------------

    def envelope_error(self, code, status, message=None, headers=None):
        # Real error bodies carry no "data" member (SocialiteProviders/
        # Providers#1198; CybersecurityForDemocracy/tiktok-library#89).
        return json_resp({"error": {
            "code": code,
            "message": message if message is not None
            else DATA_MESSAGES.get(code, "Error."),
            "log_id": self.log_id()}}, status, headers)

    def envelope_ok(self, data, raws=None):
        body = _jdump({"data": data, "error": {"code": "ok", "message": "",
                                               "log_id": self.log_id()}})
        if raws:
            for ph, lit in raws.items():
                body = body.replace(ph, lit, 1)
        # surrogateescape: U+DC80..U+DCFF in a raw literal become raw bytes.
        return Resp(200, body.encode("utf-8", "surrogateescape"))

    def rate_check(self, path, limit=None):
        if limit is None:
            limit = self.config["rate_limit"]
        limit = int(limit or 0)
        if limit <= 0:
            return None
        now = self.now()
        win = int(self.config["rate_window"])
        dq = self.rate.setdefault(path, collections.deque())
        while dq and (dq[0] <= now - win or dq[0] > now + 1):
            dq.popleft()
        if len(dq) >= limit:
            hdrs = []
            ra = self.config["rate_limit_retry_after"]
            if ra == "auto":
                ra = max(1, int(dq[0] + win - now + 0.999))
            if ra is not None:
                hdrs.append(("Retry-After", str(ra)))
            return self.envelope_error("rate_limit_exceeded", 429,
                                       headers=hdrs)
        dq.append(now)
        return None

    def data(self, req, fault):
        p = req.path
        limited = self.rate_check(p)
        if limited is not None:
            return limited
        tok = bearer(req)
        g, why = self.token_grant(tok) if tok else (None, "missing")
        if g is None:
            return self.envelope_error("access_token_invalid", 401)
        u = self.users[g.user]
        scopes = g.scope.split(",")
        fields_arg = req.q("fields")
        if p == "/v2/user/info/":
            if req.method != "GET":
                return self.envelope_error("invalid_params", 405,
                                           "Method not allowed.")
            if "user.info.basic" not in scopes:
                return self.envelope_error("scope_not_authorized", 401)
            if not fields_arg:
                return self.envelope_error("invalid_params", 400,
                                           "fields is required.")
            fields = dedupe(fields_arg.split(","))
            for fld in fields:
                if fld in USER_FIELDS_BASIC:
                    continue
                # A field outside the granted scopes: HTTP 401
                # scope_not_authorized, as the real API answered
                # (SocialiteProviders/Providers#1198), not the documented
                # 400 scope_permission_missed.
                if fld in USER_FIELDS_PROFILE:
                    if "user.info.profile" not in scopes:
                        return self.envelope_error("scope_not_authorized",
                                                   401)
                elif fld in USER_FIELDS_STATS:
                    if "user.info.stats" not in scopes:
                        return self.envelope_error("scope_not_authorized",
                                                   401)
                else:
                    return self.envelope_error(
                        "invalid_params", 400, "Unknown field: %s" % fld)
            return self.envelope_ok({"user": self.user_obj(req, u, fields)})
        if req.method != "POST":
            return self.envelope_error("invalid_params", 405,
                                       "Method not allowed.")
        if "video.list" not in scopes:
            return self.envelope_error("scope_not_authorized", 401)
        if not fields_arg:
            return self.envelope_error("invalid_params", 400,
                                       "fields is required.")
        fields = dedupe(fields_arg.split(","))
        for fld in fields:
            if fld not in VIDEO_FIELDS:
                return self.envelope_error("invalid_params", 400,
                                           "Unknown field: %s" % fld)
        body = req.json
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return self.envelope_error("invalid_params", 400,
                                       "The request body is invalid.")
        if p == "/v2/video/list/":
            return self.video_list(req, u, fields, body, fault)
        return self.video_query(req, u, fields, body)

    def user_obj(self, req, u, fields):
        o = {}
        for f in fields:
            if f == "open_id":
                o[f] = u.open_id
            elif f == "union_id":
                o[f] = u.union_id
            elif f == "display_name":
                o[f] = u.display_name
            elif f == "avatar_url":
                o[f] = self.avatar_url(req, u, 168)
            elif f == "avatar_url_100":
                o[f] = self.avatar_url(req, u, 100)
            elif f == "avatar_large_url":
                o[f] = self.avatar_url(req, u, 720)
            elif f == "username":
                o[f] = u.name
            elif f == "profile_deep_link":
                o[f] = "https://vm.tiktok.com/emu-%s/" % u.key
            elif f == "video_count":
                o[f] = sum(1 for v in u.by_id.values() if not v.hidden)
            else:
                o[f] = u.profile[f]
        return o

    def video_list(self, req, u, fields, body, fault):
        cursor = body.get("cursor")
        max_count = body.get("max_count", 10)
        if cursor is not None and (isinstance(cursor, bool) or
                                   not isinstance(cursor, int) or cursor < 0):
            return self.envelope_error("invalid_params", 400,
                                       "cursor is invalid.")
        if isinstance(max_count, bool) or not isinstance(max_count, int) or \
                not 1 <= max_count <= 20:
            return self.envelope_error("invalid_params", 400,
                                       "max_count must be 1..20.")
        u.ensure_sorted()
        order = u.order
        n = len(order)
        if not cursor:
            i = 0
        elif self.config["cursor_inclusive"]:
            i = bisect.bisect_left(u.keys, -cursor)
        else:
            i = bisect.bisect_right(u.keys, -cursor)
        page = []
        if not cursor:
            # Pinned videos first, and again at their place (TikTok's web
            # lists do so; pablouser1/ProxiTok#192). At least one video of
            # the page is not pinned, so the cursor follows the listing.
            for vid in u.pinned:
                v = u.by_id.get(vid)
                if v is not None and not v.hidden and \
                        len(page) < max_count - 1:
                    page.append(v)
        while i < n and len(page) < max_count:
            v = order[i]
            i += 1
            if not v.hidden:
                page.append(v)
        has_more = False
        while i < n:
            if not order[i].hidden:
                has_more = True
                break
            i += 1
        kind = fault["kind"] if fault else None
        if kind == "short_page" and page:
            keep = max(0, min(int(fault.get("n", 1)), len(page)))
            if keep < len(page):
                has_more = True
                if keep == 0:
                    kind = "empty_page"
                else:
                    page = page[:keep]
        if kind == "empty_page" and page:
            resume = page[0].ts + 1
            if not cursor or resume < cursor:
                return self.envelope_ok({"videos": [], "cursor": resume,
                                         "has_more": True})
            page = page[:1]     # cannot go lower without skipping a video
            has_more = True
        out_cursor = page[-1].ts if page else 0
        if kind == "cursor_stuck":
            out_cursor = cursor if cursor else int(self.now() * 1000)
            has_more = True
        raws = {}
        videos = [self.video_obj(req, u, v, fields, raws) for v in page]
        return self.envelope_ok({"videos": videos, "cursor": out_cursor,
                                 "has_more": has_more}, raws)

    def video_query(self, req, u, fields, body):
        filt = body.get("filters")
        ids = filt.get("video_ids") if isinstance(filt, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 20 or \
                not all(isinstance(x, str) for x in ids):
            return self.envelope_error("invalid_params", 400,
                                       "filters.video_ids must hold 1..20 "
                                       "ids.")
        raws = {}
        videos = []
        for vid in dedupe(ids):
            v = u.by_id.get(vid)
            if v is not None and (not v.hidden or
                                  self.config["query_private"]):
                videos.append(self.video_obj(req, u, v, fields, raws))
        return self.envelope_ok({"videos": videos, "cursor": 0,
                                 "has_more": False}, raws)

    # ---- oEmbed --------------------------------------------------------

    def oembed_video(self, url):
        """(user, video) that a video address names, or (None, None)."""
        m = OEMBED_URL_RE.match(url or "")
        if m is None:
            return None, None
        vid = m.group(1) or m.group(2)
        for u in self.users.values():
            v = u.by_id.get(vid)
            if v is not None:
                return u, v
        return None, None

    def oembed_error(self, status):
        # The real error bodies are not documented; clients must judge by
        # the status, so this one says little on purpose.
        return json_resp({"code": status, "message": "Something went wrong",
                          "status_msg": "Something went wrong"}, status)

    def oembed(self, req):
        """GET /oembed?url=...: TikTok's public oEmbed, no token."""
        if req.method not in ("GET", "HEAD"):
            return text_resp("method not allowed\n", 405)
        limited = self.rate_check(OEMBED_PATH,
                                  self.config["oembed_rate_limit"])
        if limited is not None:
            return limited
        url = req.q("url")
        if OEMBED_URL_RE.match(url or "") is None:
            return self.oembed_error(400)
        u, v = self.oembed_video(url)
        if v is None:
            return self.oembed_error(404)
        if v.hidden:
            return self.oembed_error(400)
        return json_resp({
            "version": "1.0", "type": "video",
            "title": v.description or v.title,
            "author_url": "https://www.tiktok.com/@%s" % u.name,
            "author_name": u.display_name,
            "width": "100%", "height": "100%",
            "html": self.embed_html(u, v),
            "thumbnail_width": 720, "thumbnail_height": 1280,
            "thumbnail_url": self.cover_url(req, u, v),
            "provider_url": "https://www.tiktok.com",
            "provider_name": "TikTok", "author_unique_id": u.name,
            "embed_product_id": v.id, "embed_type": "video"})

    # ---- CDN -----------------------------------------------------------

    def cdn(self, req):
        if req.method not in ("GET", "HEAD"):
            return text_resp("method not allowed\n", 405)
        seg = req.path.split("/")
        exp = req.q("x-expires", "")
        sig = req.q("x-signature", "")
        if not exp.isdigit() or not hmac.compare_digest(
                self.sign(req.path, int(exp)).encode(),
                sig.encode("ascii", "replace")):
            return text_resp("Forbidden: bad signature\n", 403)
        if self.now() > int(exp):
            return text_resp("Forbidden: URL expired\n", 403)
        if len(seg) != 5:
            return text_resp("Not found\n", 404)
        u = self.users_by_key.get(seg[2])
        if u is None:
            return text_resp("Not found\n", 404)
        last = seg[4]
        if seg[3] == "avatar":
            size = last.split("~", 1)[0]
            body = make_image("jpeg", "avatar:%s:%s" % (u.key, size), 1)
            self.counters["cdn_served"] += 1
            return Resp(200, body, "image/jpeg")
        vid = urllib.parse.unquote(seg[3])
        v = u.by_id.get(vid)
        if v is None or not last.endswith("~tplv-noop.image"):
            return text_resp("Not found\n", 404)
        try:
            ver = int(last[:-len("~tplv-noop.image")])
        except ValueError:
            return text_resp("Not found\n", 404)
        self.counters["cdn_served"] += 1
        return Resp(200, self.cover_bytes(v, ver),
                    IMAGE_TYPES[v.cover_format],
                    [("Cache-Control", "max-age=3600")])

    # ---- control interface ---------------------------------------------

    def control(self, req):
        p = req.path
        m = req.method
        b = req.json if isinstance(req.json, dict) else {}
        if m == "POST" and req.body and req.json is None:
            raise ApiError("the body must be a JSON object")
        if p == "/_emu/reset":
            self.reset()
            return json_resp({"ok": True})
        if p == "/_emu/config":
            if m == "POST":
                self.set_config(b)
            return json_resp(self.config)
        if p == "/_emu/clock":
            if m == "POST":
                if "clock" in b:
                    self.clock = None if b["clock"] is None else \
                        parse_clock(b["clock"])
                if "offset" in b:
                    self.offset = float(b["offset"])
                if "advance" in b:
                    self.offset += float(b["advance"])
            return json_resp({"now": self.now(), "offset": self.offset,
                              "clock": None if self.clock is None else
                              "%d:%d:%d" % self.clock})
        if p == "/_emu/users":
            if m == "GET":
                return json_resp({n: {"open_id": x.open_id,
                                      "union_id": x.union_id,
                                      "display_name": x.display_name}
                                  for n, x in self.users.items()})
            return json_resp(self.add_user(b))
        if p == "/_emu/login":
            who = b.get("user")
            if who is None:
                self.login = None
            else:
                self.user(who)
                scopes = b.get("scopes")
                if isinstance(scopes, str):
                    scopes = scopes.split(",")
                self.login = {"user": who, "deny": bool(b.get("deny")),
                              "scopes": scopes}
            return json_resp({"login": self.login})
        if p == "/_emu/videos":
            if m == "GET":
                u = self.user(req.q("user"))
                u.ensure_sorted()
                return json_resp({"videos": [self.video_state(u, v)
                                             for v in u.order]})
            u = self.user(b.get("user"))
            vids = b.get("videos")
            if not isinstance(vids, list):
                raise ApiError("videos must be a list")
            out = [self.add_video(u, d) for d in vids]
            return json_resp({"videos": [self.video_state(u, v)
                                         for v in out]})
        if p == "/_emu/videos/generate":
            u = self.user(b.get("user"))
            count = _int_arg(b.get("count", 10), "count", 0, 2000000)
            newest = _int_arg(b.get("newest", int(self.now())), "newest", 0)
            step = _int_arg(b.get("step", 3600), "step", 0)
            seed = b.get("seed", 0)
            formats = b.get("formats") or ["jpeg"]
            if not isinstance(formats, list) or \
                    any(f not in IMAGE_TYPES for f in formats):
                raise ApiError("formats must list jpeg, png, webp")
            if step == 0 and count > 1000:
                raise ApiError("step 0 fits at most 1000 videos")
            before = len(u.by_id)
            self.generate(u, count, newest, step, seed, formats)
            return json_resp({"count": len(u.by_id) - before,
                              "total": len(u.by_id)})
        if p == "/_emu/videos/update":
            u = self.user(b.get("user"))
            v = self.update_video(u, b)
            return json_resp({"video": self.video_state(u, v)})
        if p == "/_emu/videos/pin":
            u = self.user(b.get("user"))
            ids = b.get("ids")
            if isinstance(ids, str):
                ids = [ids]
            if not isinstance(ids, list) or len(ids) > 3 or \
                    any(x not in u.by_id for x in ids):
                raise ApiError("ids must list at most 3 of the user's "
                               "videos")
            u.pinned = list(ids)
            return json_resp({"pinned": u.pinned})
        if p in ("/_emu/videos/delete", "/_emu/videos/hide",
                 "/_emu/videos/unhide"):
            u = self.user(b.get("user"))
            ids = b.get("ids")
            if isinstance(ids, str):
                ids = [ids]
            if not isinstance(ids, list):
                raise ApiError("ids must be a list")
            n = 0
            for vid in ids:
                if p.endswith("/delete"):
                    n += self.delete_video(u, vid)
                elif vid in u.by_id:
                    u.by_id[vid].hidden = p.endswith("/hide")
                    n += 1
            return json_resp({"changed": n})
        if p == "/_emu/tokens/expire":
            u = self.user(b.get("user"))
            now = self.now()
            for g in self.grants:
                if g.user != u.name:
                    continue
                if b.get("refresh", False):
                    g.refresh_expires_at = min(g.refresh_expires_at, now)
            if b.get("access", True):
                for ent in self.access.values():
                    if ent[0].user == u.name:
                        ent[1] = min(ent[1], now)
            for c in self.codes.values():
                if c["user"] == u.name and b.get("code", False):
                    c["expires"] = now
            return json_resp({"ok": True})
        if p == "/_emu/tokens/revoke":
            u = self.user(b.get("user"))
            n = 0
            for g in self.grants:
                if g.user == u.name and not g.revoked:
                    g.revoked = True
                    n += 1
            return json_resp({"revoked": n})
        if p == "/_emu/faults":
            if m == "POST":
                rules = b.get("faults")
                if rules is None and "kind" in b:
                    rules = [b]
                if not isinstance(rules, list):
                    raise ApiError("faults must be a list of rules")
                for r in rules:
                    self.add_fault(r)
            return json_resp({"faults": self.fault_view()})
        if p == "/_emu/faults/clear":
            self.faults = []
            return json_resp({"faults": []})
        if p == "/_emu/state":
            return json_resp(self.state(req))
        if p == "/_emu/counters":
            return json_resp(self.counters)
        if p == "/_emu/counters/reset":
            self.reset_counters()
            return json_resp(self.counters)
        if p == "/_emu/log":
            since = int(req.q("since", "0") or 0)
            return json_resp({"entries": [e for e in self.log
                                          if e["seq"] > since],
                              "last": self.log_seq})
        if p == "/_emu/ping":
            return json_resp({"ok": True, "pid": os.getpid(),
                              "ports": self.ports})
        raise ApiError("unknown control path %s" % p, 404)

    def set_config(self, b):
        new = dict(self.config)
        for k, x in b.items():
            if k not in DEFAULT_CONFIG:
                raise ApiError("unknown config key %r" % k)
            if k in ("client_key", "client_secret", "token_marker"):
                if not isinstance(x, str):
                    raise ApiError("%s must be a string" % k)
            elif k == "redirect_uris":
                if isinstance(x, str):
                    x = [x]
                if not isinstance(x, list) or \
                        not all(isinstance(s, str) for s in x):
                    raise ApiError("redirect_uris must be a list of strings")
            elif k == "rotation":
                if x not in ("strict", "same"):
                    raise ApiError("rotation must be strict or same")
            elif k == "rate_limit_retry_after":
                if x is not None and x != "auto":
                    _int_arg(x, k, 0)
            elif k in BOOL_CONFIG:
                if not isinstance(x, bool):
                    raise ApiError("%s must be true or false" % k)
            elif k == "approved_scopes":
                if isinstance(x, str):
                    x = x.split(",")
                if x is not None and (not isinstance(x, list) or any(
                        s not in KNOWN_SCOPES for s in x)):
                    raise ApiError("approved_scopes must list known scopes")
            elif k == "rate_window":
                _int_arg(x, k, 1)
            else:
                _int_arg(x, k, 0)
            new[k] = x
        self.config = new

    def add_user(self, b):
        name = b.get("name")
        if not isinstance(name, str) or not name or "/" in name:
            raise ApiError("name must be a non-empty string without '/'")
        u = self.users.get(name)
        if u is None:
            open_id = b.get("open_id") or str(uuid.UUID(
                bytes=hashlib.sha256(("open:" + name).encode()).digest()[:16],
                version=4))
            union_id = b.get("union_id") or str(uuid.UUID(
                bytes=hashlib.sha256(("union:" + name).encode()).digest()
                [:16], version=4))
            u = User(name, b.get("display_name", name), open_id, union_id)
            self.users[name] = u
            self.users_by_key[u.key] = u
        elif "display_name" in b:
            u.display_name = b["display_name"]
        for k in u.profile:
            if k in b:
                u.profile[k] = b[k]
        return {"name": u.name, "open_id": u.open_id, "union_id": u.union_id,
                "display_name": u.display_name}

    def state(self, req):
        with_videos = req.q("videos", "1") != "0"
        covers = req.q("covers", "1") != "0"
        only = req.q("user")
        users = {}
        for name, u in self.users.items():
            if only is not None and name != only:
                continue
            o = {"open_id": u.open_id, "union_id": u.union_id,
                 "display_name": u.display_name,
                 "video_count": len(u.by_id)}
            if with_videos:
                u.ensure_sorted()
                o["videos"] = [self.video_state(u, v, covers)
                               for v in u.order]
            users[name] = o
        grants = [{"id": g.id, "user": g.user, "scope": g.scope,
                   "created": g.created,
                   "refresh_expires_at": g.refresh_expires_at,
                   "revoked": g.revoked} for g in self.grants]
        return {"config": self.config, "now": self.now(), "users": users,
                "grants": grants,
                "login": self.login}


def parse_clock(spec):
    """(real_ms, sim_ms, scale) from "REAL_MS:SIM_MS:SCALE", the format of
    the daemon's TIKTOK_MIRROR_TEST_CLOCK (integers, 1 <= SCALE <= 1e7)."""
    try:
        parts = [int(x) for x in str(spec).split(":")]
    except ValueError:
        parts = []
    if len(parts) != 3 or not 1 <= parts[2] <= 10000000:
        raise ApiError("clock must be REAL_MS:SIM_MS:SCALE (integers, "
                       "SCALE 1..10000000)")
    return tuple(parts)


def dedupe(items):
    seen = set()
    out = []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def bearer(req):
    h = req.headers.get("Authorization", "")
    if h[:7].lower() == "bearer ":
        return h[7:].strip()
    return None


def invalid_json_resp(variant):
    bodies = {
        "truncated": b'{"data":{"videos":[{"id":"7080213458555737986","title"'
                     b':"half',
        "garbage": b"\x00\xff{{not json at all}}\xfe",
        "html": b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        "empty": b"",
        "trailing": b'{"data":{},"error":{"code":"ok","message":"","log_id":'
                    b'"x"}} trailing',
        "unterminated_string": b'{"error":{"code":"ok","message":"\\ud83d',
        "bad_escape": b'{"data":{"videos":[]},"error":{"code":"\\q"}}',
    }
    body = bodies.get(variant, bodies["truncated"])
    ctype = "text/html" if variant == "html" else "application/json"
    return Resp(200, body, ctype)


def wrong_shape_resp(path, variant, log_id):
    ok = {"code": "ok", "message": "", "log_id": log_id}
    if path == "/v2/oauth/token/":
        return json_resp({"access_token": 12345, "expires_in": "86400",
                          "open_id": None, "refresh_token": ["rft.x"],
                          "refresh_expires_in": {}, "scope": 7,
                          "token_type": "Bearer"})
    if path == "/v2/user/info/":
        return json_resp({"data": {"user": ["open_id"]}, "error": ok})
    if path.startswith("/v2/video/"):
        variants = {
            "videos_object": {"data": {"videos": {"id": "1"},
                                       "cursor": 1, "has_more": False},
                              "error": ok},
            "id_number": {"data": {"videos": [{"id": 7080213458555737986,
                                               "create_time": "soon"}],
                                   "cursor": 1, "has_more": False},
                          "error": ok},
            "cursor_string": {"data": {"videos": [], "cursor": "1700000000000",
                                       "has_more": "true"}, "error": ok},
            "data_array": {"data": [], "error": ok},
            "error_string": {"data": {"videos": []}, "error": "ok"},
            "top_array": [{"data": {}}],
        }
        if variant == "deep_nesting":
            body = b'{"data":' + b'{"a":[' * 5000 + b"1" + b"]}" * 5000 + b"}"
            return Resp(200, body)
        return json_resp(variants.get(variant, variants["videos_object"]))
    return json_resp([1, "two", {"three": None}])


def huge_stream(n, stopping):
    head = b"\xff\xd8\xff\xe0"
    chunk = bytes(65536)
    sent = 0
    if n >= len(head):
        yield head
        sent = len(head)
    while sent < n and not stopping.is_set():
        k = min(len(chunk), n - sent)
        yield chunk[:k]
        sent += k


def pattern_stream(n):
    block = bytes(range(256)) * 256
    sent = 0
    while sent < n:
        k = min(len(block), n - sent)
        yield block[:k]
        sent += k


def raw_endpoint(app, req):
    """Plain HTTP behaviours for the HTTP client's unit tests."""
    name = req.path[len("/_emu/raw/"):]

    def num(key, default, hi=MAX_STREAM):
        try:
            return max(0, min(int(req.q(key, default)), hi))
        except ValueError:
            raise ApiError("%s must be an integer" % key)

    try:
        if name == "hello":
            return text_resp("hello", ctype="text/plain")
        if name == "bytes":
            n = num("n", 0)
            r = Resp(200, b"", "application/octet-stream")
            r.stream = pattern_stream(n)
            r.length = n
            return r
        if name == "chunked":
            n = num("n", 0)
            r = Resp(200, b"", "application/octet-stream")
            r.stream = pattern_stream(n)
            r.length = None
            return r
        if name == "length":
            claim = num("claim", 100)
            send = num("send", 50)
            r = Resp(200, b"", "application/octet-stream")
            r.stream = pattern_stream(send)
            r.length = claim
            r.transport = "close"
            return r
        if name == "drip":
            n = num("n", 100)
            r = Resp(200, bytes(n), "application/octet-stream")
            r.transport = "drip"
            r.rate = max(1, num("rate", 1))
            return r
        if name == "hang":
            r = Resp()
            r.transport = "hang"
            return r
        if name == "drop":
            r = Resp()
            r.transport = "drop"
            return r
        if name == "status":
            code = num("code", 500, 999)
            r = text_resp("status %d\n" % code, code)
            ra = req.q("retry_after")
            if ra is not None:
                r.headers.append(("Retry-After", ra))
            return r
        if name == "redirect":
            to = req.q("to", "/_emu/raw/hello")
            code = num("code", 302, 399)
            return Resp(code, b"redirect\n", "text/plain",
                        [("Location", to)])
        if name == "echo":
            return json_resp({
                "method": req.method, "path": req.path,
                "query": {k: v if len(v) > 1 else v[0]
                          for k, v in req.query.items()},
                "headers": {k.lower(): v for k, v in req.headers.items()},
                "header_list": [[k, v] for k, v in req.headers.items()],
                "body": req.body.decode("utf-8", "replace"),
                "body_b64": base64.b64encode(req.body).decode("ascii"),
                "scheme": req.scheme})
    except ApiError as e:
        return text_resp(str(e) + "\n", 400)
    return text_resp("no such raw behaviour\n", 404)


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

QUIET_ERRORS = (ConnectionError, TimeoutError, ssl.SSLError, OSError)


class BodyError(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tiktok-emulator/1"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def log_request(self, code="-", size="-"):
        pass  # App.finish logs requests (with --verbose)

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            sys.stderr.write("emulator: %s %s\n" % (self.server.scheme,
                                                    fmt % args))

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def do_HEAD(self):
        self.dispatch(head=True)

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            out = bytearray()
            for _ in range(1 << 20):
                line = self.rfile.readline(1024)
                if not line:
                    raise BodyError("eof in chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    for _ in range(100):
                        t = self.rfile.readline(8192)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return bytes(out)
                if len(out) + size > MAX_BODY:
                    raise BodyError("body too large")
                out += self.rfile.read(size)
                self.rfile.readline(16)
            raise BodyError("too many chunks")
        n = self.headers.get("Content-Length")
        if not n:
            return b""
        try:
            n = int(n)
        except ValueError:
            raise BodyError("bad Content-Length")
        if n < 0 or n > MAX_BODY:
            raise BodyError("body too large")
        data = self.rfile.read(n)
        if len(data) != n:
            raise BodyError("short body")
        return data

    def dispatch(self, head=False):
        app = self.server.app
        try:
            body = self.read_body()
        except (BodyError, ValueError) as e:
            self.close_connection = True
            self.send_plain(400, "bad request body: %s\n" % e)
            return
        parts = urllib.parse.urlsplit(self.path)
        req = Req()
        req.method = self.command
        req.path = parts.path
        req.query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        req.headers = self.headers
        req.body = body
        req.scheme = self.server.scheme
        req.host = self.headers.get("Host") or "127.0.0.1:%d" % \
            self.server.server_address[1]
        req.client = self.client_address
        req.form = {}
        req.json = None
        ctype = (self.headers.get("Content-Type") or "").lower()
        if body:
            if "json" in ctype or req.path.startswith("/_emu/") or \
                    req.path.startswith("/v2/video/"):
                try:
                    req.json = json.loads(body.decode("utf-8"))
                except ValueError:
                    req.json = None
            if req.path in OAUTH_PATHS or req.path.startswith("/_emu/raw/"):
                try:
                    req.form = {k: v[0] for k, v in urllib.parse.parse_qs(
                        body.decode("utf-8"), keep_blank_values=True).items()}
                except (UnicodeDecodeError, ValueError):
                    req.form = {}
        if req.path.startswith("/v2/video/") and body and req.json is None:
            req.json = _BAD_JSON
        try:
            resp = app.handle(req)
        except QUIET_ERRORS:
            raise
        except Exception:
            traceback.print_exc(file=sys.stderr)
            resp = text_resp("emulator bug\n", 500)
        self.deliver(resp, head)

    def send_plain(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def pause(self, seconds):
        self.server.app.stopping.wait(seconds)

    def deliver(self, r, head=False):
        app = self.server.app
        if r.delay > 0:
            self.pause(r.delay)
        if r.transport == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if r.transport == "hang":
            self.close_connection = True
            self.hang(float(app.config.get("hang_max", 300)))
            return
        self.send_response(r.status)
        if r.ctype:
            self.send_header("Content-Type", r.ctype)
        for k, v in r.headers:
            self.send_header(k, v)
        if r.stream is not None:
            if r.length is None:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(r.length))
        elif r.transport == "truncate":
            claim = len(r.body) * 2 + 100
            self.send_header("Content-Length", str(claim))
        else:
            self.send_header("Content-Length", str(len(r.body)))
        if r.transport in ("truncate", "close"):
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        if r.stream is not None:
            chunked = r.length is None
            sent = 0
            for piece in r.stream:
                if r.length is not None and r.transport != "close":
                    piece = piece[:max(0, r.length - sent)]
                if not piece:
                    continue
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                else:
                    self.wfile.write(piece)
                sent += len(piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            if r.transport == "close" or (r.length is not None and
                                          sent < r.length):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            return
        if r.transport == "truncate":
            self.wfile.write(r.body[:len(r.body) // 2])
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if r.transport == "drip":
            rate = max(1, r.rate)
            step = max(1, rate // 10)
            interval = step / float(rate)
            for i in range(0, len(r.body), step):
                if app.stopping.is_set():
                    self.close_connection = True
                    return
                self.wfile.write(r.body[i:i + step])
                if i + step < len(r.body):
                    self.pause(interval)
            return
        self.wfile.write(r.body)

    def hang(self, limit):
        """Hold the connection without answering until the peer closes it,
        the emulator stops, or limit seconds pass."""
        conn = self.connection
        deadline = time.monotonic() + max(0.0, limit)
        stopping = self.server.app.stopping
        try:
            conn.settimeout(0.25)
        except OSError:
            return
        while time.monotonic() < deadline and not stopping.is_set():
            try:
                if isinstance(conn, ssl.SSLSocket):
                    data = conn.recv(4096)
                else:
                    rl, _, _ = select.select([conn], [], [], 0.25)
                    if not rl:
                        continue
                    data = conn.recv(4096)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except OSError:
                return
            if not data:
                return


_BAD_JSON = object()  # marks an unparsable JSON body on the video endpoints


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, port, app, scheme, ssl_ctx=None):
        self.app = app
        self.scheme = scheme
        self.ssl_ctx = ssl_ctx
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", port), Handler)

    def finish_request(self, request, client_address):
        if self.ssl_ctx is None:
            ThreadingHTTPServer.finish_request(self, request, client_address)
            return
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            conn = self.ssl_ctx.wrap_socket(request, server_side=True)
        except QUIET_ERRORS:
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, QUIET_ERRORS):
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description="TikTok API emulator")
    ap.add_argument("--http-port", type=int, default=0)
    ap.add_argument("--https-port", type=int, default=0)
    ap.add_argument("--dir", help="where ca.pem and the server key go "
                    "(default: a temporary folder, removed on exit)")
    ap.add_argument("--ready-file", help="JSON written once both ports "
                    "listen")
    ap.add_argument("--verbose", action="store_true",
                    help="log every request to stderr")
    ap.add_argument("--max-lifetime", type=float, default=86400,
                    help="exit after this many seconds (0: never)")
    ap.add_argument("--no-parent-watch", action="store_true",
                    help="keep running when the parent process dies")
    ap.add_argument("--clock", metavar="REAL_MS:SIM_MS:SCALE",
                    help="compressed test clock, as the daemon's "
                    "TIKTOK_MIRROR_TEST_CLOCK")
    args = ap.parse_args(argv)
    clock = None
    if args.clock is not None:
        try:
            clock = parse_clock(args.clock)
        except ApiError as e:
            ap.error(str(e))

    own_dir = args.dir is None
    d = tempfile.mkdtemp(prefix="tiktok-emu-") if own_dir else \
        os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    try:
        ca, cert, key = make_certs(d)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)

        app = App(verbose=args.verbose, clock=clock)
        http_srv = Server(args.http_port, app, "http")
        https_srv = Server(args.https_port, app, "https", ctx)
        servers = (http_srv, https_srv)
        app.ports = {"http": http_srv.server_address[1],
                     "https": https_srv.server_address[1]}
        threads = [threading.Thread(target=s.serve_forever,
                                    kwargs={"poll_interval": 0.2},
                                    daemon=True) for s in servers]
        for t in threads:
            t.start()

        stop = threading.Event()

        def on_signal(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        if args.ready_file:
            info = {"http": app.ports["http"], "https": app.ports["https"],
                    "ca": ca, "pid": os.getpid(), "dir": d}
            tmp = args.ready_file + ".tmp.%d" % os.getpid()
            with open(tmp, "w") as f:
                json.dump(info, f)
            os.replace(tmp, args.ready_file)
        if args.verbose:
            sys.stderr.write("emulator: http %d https %d ca %s\n" % (
                app.ports["http"], app.ports["https"], ca))

        parent = os.getppid()
        started = time.monotonic()
        while not stop.wait(0.5):
            if not args.no_parent_watch and parent != 1 and \
                    os.getppid() != parent:
                break
            if args.max_lifetime and \
                    time.monotonic() - started > args.max_lifetime:
                break
        app.stopping.set()
        for s in servers:
            s.shutdown()
            s.server_close()
        return 0
    finally:
        if own_dir:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
