# SPDX-License-Identifier: ISC
#
# tiktok-mirror: make, make test, make demo, make install, make asan,
# make valgrind, make lint, make clean.
#
# `make test` and `make demo` first check the Debian packages they need;
# as root they install what is missing, otherwise they print the exact
# apt-get line and stop.

VERSION     = 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
USERUNITDIR ?= $(PREFIX)/lib/systemd/user
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR     ?= $(PREFIX)/share/doc/tiktok-mirror
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKG_CONFIG ?= pkg-config
PYTHON     ?= python3

# Build folder; `make asan` uses build/asan.
B ?= build

PKGS = libuv libcurl yaml-0.1 sqlite3
# Debian packages for building, testing and the demo.
DEBS = gcc make pkg-config libcurl4-openssl-dev libuv1-dev libsqlite3-dev \
       libjsmn-dev libyaml-dev libcmocka-dev python3 openssl sqlite3 \
       ca-certificates
# What the tests use besides: man page lint, the Hugo example in a browser,
# make deb and its lint, sqlite-utils on the mirror.
TEST_DEBS = $(DEBS) mandoc hugo chromium dpkg-dev lintian sqlite-utils

WARN = -Wall -Wextra -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
       -Wmissing-declarations -Wshadow -Wpointer-arith -Wcast-qual \
       -Wwrite-strings -Wundef -Wvla -Wnull-dereference \
       -Werror=implicit-function-declaration
CFLAGS ?= -O2 -g
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -Ilib \
             $(WARN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP

LIB_SRCS    = $(wildcard lib/*.c)
DAEMON_SRCS = $(wildcard daemon/*.c)
UNIT_SRCS   = $(wildcard tests/unit/test_*.c)
LIB_OBJS    = $(LIB_SRCS:%.c=$(B)/%.o)
DAEMON_OBJS = $(DAEMON_SRCS:%.c=$(B)/%.o)
UNIT_BINS   = $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
LIBA        = $(B)/libtiktokmirror.a
PROG        = $(B)/tiktok-mirror

all: $(PROG)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(PROG): $(DAEMON_OBJS) $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIBA) $(PKG_LIBS) -lm

$(B)/tests/%: $(B)/tests/unit/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(PKG_LIBS) -lcmocka -lm

# Unit tests reach the shared test data in place, never copied.
SHARED ?= $(abspath ../shared)

deps:
	@missing=""; \
	for p in $(or $(NEED),$(DEBS)); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "missing Debian packages; run as root:"; \
	    echo "  apt-get install$$missing"; exit 1; \
	  fi; \
	fi

build-tests: $(PROG) $(UNIT_BINS)

test:
	@$(MAKE) --no-print-directory deps NEED="$(TEST_DEBS)"
	@$(MAKE) --no-print-directory build-tests
	@if command -v $(FUZZ_CC) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory fuzz-smoke; \
	else \
	  echo "$(FUZZ_CC) not found: the fuzz smoke run is skipped"; \
	fi
	@TM_BIN=$(abspath $(PROG)) TM_SHARED=$(SHARED) \
	  $(PYTHON) tests/run.py $(UNIT_BINS) tests/e2e

demo:
	@$(MAKE) --no-print-directory deps
	@echo "building $(PROG) ..."
	@$(MAKE) --no-print-directory -s all
	@TM_BIN=$(abspath $(PROG)) $(PYTHON) tests/demo.py

# The benchmark of issue 6 (tests/bench/bench.py; not part of `make test`):
# builds the floor client, then measures the daemon against the emulator.
# Results: the table on the terminal and $(B)/bench/results.json.
.PHONY: bench
bench: all
	@mkdir -p $(B)/bench
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -o $(B)/bench/floor \
	  tests/bench/floor.c $(shell $(PKG_CONFIG) --cflags --libs libcurl)
	@TM_BIN=$(abspath $(PROG)) BENCH_FLOOR=$(abspath $(B)/bench/floor) \
	  BENCH_OUT=$(abspath $(B)/bench) $(PYTHON) tests/bench/bench.py

# The time-compressed soak of issue 8 (tests/soak/soak.py; not part of
# `make test`, which runs its 30-day version): 365 simulated days of the
# real daemon against the emulator in under 10 minutes. The table goes to
# the terminal and $(B)/soak/soak-365.txt.
.PHONY: soak
soak:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@TM_BIN=$(abspath $(PROG)) $(PYTHON) tests/soak/soak.py --days 365 \
	  --out $(abspath $(B))/soak

ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=all
asan:
	@$(MAKE) --no-print-directory B=build/asan CFLAGS="$(ASAN_FLAGS)" \
	  LDFLAGS="-fsanitize=address,undefined" test

# libFuzzer harnesses (tests/fuzz/), built with clang against the lib
# sources. `make fuzz` runs each for FUZZ_SECONDS, `make fuzz-smoke` for
# FUZZ_SMOKE_SECONDS (part of `make test` when clang is there), all at
# once. New corpus entries and crash inputs stay under build/fuzz; a crash
# input, once fixed, goes into tests/fuzz/corpus/NAME as a regression seed.
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_NAMES          = json api config redirect
FUZZ_B              = build/fuzz
FUZZ_FLAGS          = -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -Ilib \
                      $(PKG_CFLAGS) -g -O1 -fno-omit-frame-pointer \
                      -fsanitize=fuzzer,address,undefined \
                      -fno-sanitize-recover=all
FUZZ_LIB_OBJS       = $(LIB_SRCS:lib/%.c=$(FUZZ_B)/lib/%.o)
FUZZ_BINS           = $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz_%)

$(FUZZ_B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h \
                  $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB_OBJS) $(PKG_LIBS) -lm

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-smoke: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SMOKE_SECONDS) $(FUZZ_NAMES)

.PHONY: fuzz fuzz-build fuzz-smoke
-include $(FUZZ_LIB_OBJS:.o=.d)

valgrind:
	@$(MAKE) --no-print-directory deps NEED="$(TEST_DEBS)"
	@$(MAKE) --no-print-directory build-tests
	@TM_BIN=$(abspath $(PROG)) TM_SHARED=$(SHARED) TM_VALGRIND=1 \
	  $(PYTHON) tests/run.py $(UNIT_BINS) tests/e2e

# The house rules a tool can check (style.md; there is no formatter: the
# compiler's warnings and these keep the tree honest). Each names what it
# found and the rule.
lint:
	@! grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|gets|atoi|atol)\(' \
	  lib/*.c daemon/*.c || { echo "banned function"; exit 1; }
	@! grep -nE 'SSL_VERIFY(PEER|HOST)' lib/*.c daemon/*.c || { echo "TLS verification must stay on"; exit 1; }
	@! grep -n '#include <curl/' lib/*.[ch] daemon/*.[ch] | grep -v '^lib/http\.c:' \
	  || { echo "only lib/http.c includes curl"; exit 1; }
	@! grep -n '#include <sqlite3\.h>' lib/*.[ch] daemon/*.[ch] \
	  | grep -vE '^lib/(store|secrets|db)\.[ch]:' \
	  || { echo "only store.c, secrets.c and db.c speak SQL"; exit 1; }
	@! grep -nE '#include "(daemon|mirror|output)\.h"' lib/*.[ch] \
	  || { echo "lib/ never includes daemon/"; exit 1; }
	@! grep -n 'getenv("TIKTOK_MIRROR_TEST_' lib/*.c \
	  || { echo "test knobs are read by daemon/main.c and passed in"; exit 1; }
	@! grep -nE '^[[:space:]]*(\(void\))?uv_[a-z_]+_(init|start|stop)\(' lib/*.c daemon/*.c \
	  | grep -vE '[!=]= 0\)' \
	  || { echo "an unchecked libuv call: check it, or UV_OK() when it cannot fail"; exit 1; }

# System units: every systemd/*.service and *.path but the user variant.
SYSTEM_UNITS = $(filter-out systemd/tiktok-mirror-user.service, \
                 $(wildcard systemd/*.service systemd/*.path))
# The files in systemd/ name the default /usr/local places; installed, they
# name where things really went (ExecStart=, and the paths in comments).
UNIT_SED = -e 's|/usr/local/bin/|$(BINDIR)/|g' \
           -e 's|/usr/local/share/doc/tiktok-mirror|$(DOCDIR)|g' \
           -e 's|/usr/local/lib/|$(PREFIX)/lib/|g'
DOCS = README.md daemon/NEWS LICENSE etc/tiktok-mirror.yaml

install: $(PROG)
	install -D -m 0755 $(PROG) $(DESTDIR)$(BINDIR)/tiktok-mirror
	install -D -m 0644 daemon/tiktok-mirror.1 \
	  $(DESTDIR)$(MANDIR)/man1/tiktok-mirror.1
	install -D -m 0644 etc/tiktok-mirror.yaml.5 \
	  $(DESTDIR)$(MANDIR)/man5/tiktok-mirror.yaml.5
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(USERUNITDIR) \
	  $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	  $(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR)
	@for u in $(SYSTEM_UNITS); do \
	  echo "install $$u $(DESTDIR)$(UNITDIR)/$$(basename $$u)"; \
	  sed $(UNIT_SED) $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	sed $(UNIT_SED) systemd/tiktok-mirror-user.service \
	  > $(DESTDIR)$(USERUNITDIR)/tiktok-mirror.service
	sed $(UNIT_SED) systemd/tiktok-mirror.sysusers \
	  > $(DESTDIR)$(SYSUSERSDIR)/tiktok-mirror.conf
	sed $(UNIT_SED) systemd/tiktok-mirror.tmpfiles \
	  > $(DESTDIR)$(TMPFILESDIR)/tiktok-mirror.conf
	chmod 0644 $(DESTDIR)$(USERUNITDIR)/tiktok-mirror.service \
	  $(DESTDIR)$(SYSUSERSDIR)/tiktok-mirror.conf \
	  $(DESTDIR)$(TMPFILESDIR)/tiktok-mirror.conf
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 daemon/tiktok-mirror.bash \
	  $(DESTDIR)$(BASHCOMPDIR)/tiktok-mirror
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/tiktok-mirror/tiktok-mirror.yaml ]; then \
	  echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/tiktok-mirror/tiktok-mirror.yaml"; \
	else \
	  install -D -m 0640 etc/tiktok-mirror.yaml \
	    $(DESTDIR)$(SYSCONFDIR)/tiktok-mirror/tiktok-mirror.yaml; \
	fi

# `make deb`: build/tiktok-mirror_VERSION_ARCH.deb with dpkg-deb from the
# `make install` tree (PREFIX=/usr): Depends from dpkg-shlibdeps, the
# config a conffile, the maintainer scripts in systemd/ applying the
# sysusers and tmpfiles entries and enabling the unit as debhelper does.
DEB_ARCH    = $(shell dpkg --print-architecture 2>/dev/null)
DEB         = $(B)/tiktok-mirror_$(VERSION)_$(DEB_ARCH).deb
DEB_TREE    = $(B)/deb/root
DEB_MAINTAINER ?= tiktok-mirror maintainers <tiktok-mirror@users.noreply.github.com>
DEB_DEPENDS = init-system-helpers (>= 1.54~), \
              systemd | systemd-standalone-sysusers | systemd-sysusers
deb: $(PROG)
	@command -v dpkg-shlibdeps >/dev/null || \
	  { echo "make deb needs dpkg-dev: apt-get install dpkg-dev"; exit 1; }
	rm -rf $(B)/deb
	$(MAKE) --no-print-directory -s install DESTDIR=$(abspath $(DEB_TREE)) \
	  PREFIX=/usr B=$(B) >/dev/null
	strip --remove-section=.comment --remove-section=.note \
	  $(DEB_TREE)/usr/bin/tiktok-mirror
	gzip -9n $(DEB_TREE)/usr/share/man/man1/tiktok-mirror.1 \
	  $(DEB_TREE)/usr/share/man/man5/tiktok-mirror.yaml.5 \
	  $(DEB_TREE)/usr/share/doc/tiktok-mirror/NEWS \
	  $(DEB_TREE)/usr/share/doc/tiktok-mirror/README.md
	rm $(DEB_TREE)/usr/share/doc/tiktok-mirror/LICENSE
	{ echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"; \
	  echo "Upstream-Name: tiktok-mirror"; echo; \
	  echo "Files: *"; echo "License: ISC"; echo; \
	  echo "License: ISC"; sed 's/^$$/./; s/^/ /' LICENSE; } \
	  > $(DEB_TREE)/usr/share/doc/tiktok-mirror/copyright
	{ echo "tiktok-mirror ($(VERSION)) unstable; urgency=medium"; echo; \
	  echo "  * Built by make deb; see NEWS.gz for what changed."; echo; \
	  echo " -- $(DEB_MAINTAINER)  $$(date -R -u -d @$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || date +%s)})"; } \
	  | gzip -9n > $(DEB_TREE)/usr/share/doc/tiktok-mirror/changelog.gz
	install -d -m 0755 $(DEB_TREE)/DEBIAN $(B)/deb/debian
	install -m 0755 systemd/tiktok-mirror.postinst $(DEB_TREE)/DEBIAN/postinst
	install -m 0755 systemd/tiktok-mirror.prerm $(DEB_TREE)/DEBIAN/prerm
	install -m 0755 systemd/tiktok-mirror.postrm $(DEB_TREE)/DEBIAN/postrm
	echo /etc/tiktok-mirror/tiktok-mirror.yaml > $(DEB_TREE)/DEBIAN/conffiles
	printf 'Source: tiktok-mirror\n\nPackage: tiktok-mirror\nArchitecture: any\n' \
	  > $(B)/deb/debian/control
	cd $(B)/deb && dpkg-shlibdeps -O -e root/usr/bin/tiktok-mirror \
	  2>/dev/null | sed -n 's/^shlibs:Depends=//p' > shlibs
	test -s $(B)/deb/shlibs
	{ echo "Package: tiktok-mirror"; echo "Version: $(VERSION)"; \
	  echo "Architecture: $(DEB_ARCH)"; \
	  echo "Maintainer: $(DEB_MAINTAINER)"; \
	  echo "Installed-Size: $$(du -sk --exclude=DEBIAN $(DEB_TREE) | cut -f1)"; \
	  echo "Depends: $$(cat $(B)/deb/shlibs), $(DEB_DEPENDS)"; \
	  echo "Section: net"; echo "Priority: optional"; \
	  echo "Description: local, always-readable mirror of TikTok accounts' videos"; \
	  echo " A small daemon that keeps each configured TikTok account's videos,"; \
	  echo " with their cover images, in an SQLite database that web sites,"; \
	  echo " Datasette, static site generators and scripts read without ever"; \
	  echo " touching the network or holding a token."; } \
	  > $(DEB_TREE)/DEBIAN/control
	dpkg-deb --root-owner-group -Zxz --build $(DEB_TREE) $(DEB) >/dev/null
	@echo "$(DEB)"

# Removes what install added, never the configuration or the data.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tiktok-mirror
	rm -f $(DESTDIR)$(MANDIR)/man1/tiktok-mirror.1
	rm -f $(DESTDIR)$(MANDIR)/man5/tiktok-mirror.yaml.5
	@for u in $(SYSTEM_UNITS); do \
	  rm -f $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	done
	rm -f $(DESTDIR)$(USERUNITDIR)/tiktok-mirror.service
	rm -f $(DESTDIR)$(SYSUSERSDIR)/tiktok-mirror.conf
	rm -f $(DESTDIR)$(TMPFILESDIR)/tiktok-mirror.conf
	rm -f $(DESTDIR)$(BASHCOMPDIR)/tiktok-mirror
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build

.PHONY: all deps build-tests test demo asan valgrind lint install deb \
        uninstall clean
.SECONDARY:

-include $(LIB_OBJS:.o=.d) $(DAEMON_OBJS:.o=.d) $(UNIT_SRCS:%.c=$(B)/%.d)
