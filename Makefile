# owfuse build and test entry points. `make test` is what CI runs.
GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator
# can report "context deadline exceeded" as a failure when the time runs
# out under load (golang/go#75804, fixed in Go 1.27). 50,000 inputs take
# 1-6 s a target on 2 cores.
FUZZTIME ?= 50000x

.PHONY: all build install uninstall demo demo-stop test lint unit race-gomaxprocs1 fuzz integration bench clean

all: build

# The version --version prints: the commit, from git when there is one.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)

build:
	$(GO) build -ldflags "-X main.buildVersion=$(VERSION)" -o bin/owfuse .

## install: owfuse into $(PREFIX)/bin, the mount helper where mount(8)
## looks for it (/sbin/mount.owfuse), and the man pages owfuse(8) and
## mount.owfuse(8), all under $(DESTDIR). OWSHELL_LINKS=1 also links
## owdir, owread, owwrite, owget and owpresent to owfuse in $(PREFIX)/bin;
## it is off by default because ow-shell may be installed, and a program of
## that name already there is kept.
SBINDIR ?= /sbin
MANDIR  ?= $(PREFIX)/share/man
OWSHELL_LINKS ?=
OWSHELL_PROGRAMS = owdir owread owwrite owget owpresent

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 bin/owfuse $(DESTDIR)$(PREFIX)/bin/owfuse
	ln -sf $(PREFIX)/bin/owfuse $(DESTDIR)$(SBINDIR)/mount.owfuse
	@# The pages come from a build for this machine, so that a cross-built
	@# bin/owfuse (GOARCH=arm64) installs too; written whole or not at all.
	@for page in owfuse mount.owfuse; do \
		GOOS= GOARCH= $(GO) run . man $$page > $(DESTDIR)$(MANDIR)/man8/$$page.8.tmp && \
		mv $(DESTDIR)$(MANDIR)/man8/$$page.8.tmp $(DESTDIR)$(MANDIR)/man8/$$page.8 || exit 1; done
	@if [ -n "$(OWSHELL_LINKS)" ] && [ "$(OWSHELL_LINKS)" != 0 ]; then for p in $(OWSHELL_PROGRAMS); do f=$(DESTDIR)$(PREFIX)/bin/$$p; \
		if { [ -e "$$f" ] || [ -L "$$f" ]; } && [ "$$(readlink $$f)" != owfuse ]; then echo "kept $$f: not a link to owfuse (ow-shell's?)"; continue; fi; \
		echo "ln -sf owfuse $$f"; ln -sf owfuse $$f; \
		if [ -z "$(DESTDIR)" ] && [ -e /usr/bin/$$p ] && [ "$(PREFIX)/bin" != /usr/bin ]; then \
			echo "note: /usr/bin/$$p (ow-shell) is installed; $$f comes first in most PATHs"; fi; done; fi

# Removes the ow-shell names only where they are links to owfuse: an
# ow-shell installed there stays.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/owfuse $(DESTDIR)$(SBINDIR)/mount.owfuse \
		$(DESTDIR)$(MANDIR)/man8/owfuse.8 $(DESTDIR)$(MANDIR)/man8/mount.owfuse.8
	@for p in $(OWSHELL_PROGRAMS); do f=$(DESTDIR)$(PREFIX)/bin/$$p; \
		if [ "$$(readlink $$f)" = owfuse ]; then echo "rm -f $$f"; rm -f $$f; fi; done

## demo: a fake 1-Wire bus on loopback, mounted, listed and read.
demo:
	bash .ci/demo

## demo-stop: unmount, stop owfuse and owserver. A busy mount stops
## nothing and fails, naming who holds it; FORCE=1 detaches it lazily.
FORCE ?=

demo-stop:
	FORCE=$(FORCE) bash .ci/demo stop

## test: everything CI checks — lint, unit and integration tests with -race
## (and once more with GOMAXPROCS=1), and a short fuzzing run.
test: lint unit race-gomaxprocs1 fuzz

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The integration tests' owfuse is built with -race here (its race
# reports fail the run) and without it in race-gomaxprocs1, where the
# memory bounds are checked.
unit:
	OWFUSE_RACE_DAEMON=1 $(GO) test -race -count=1 ./...

race-gomaxprocs1:
	GOMAXPROCS=1 $(GO) test -race -count=1 ./...

# Every fuzz target, briefly; each one's corpus is committed under its
# package's testdata/fuzz.
FUZZ_TARGETS = ./owclient:FuzzReadReply ./owclient:FuzzParseStructure \
	./cache:FuzzParseListing ./owclient:FuzzParsePath ./cache:FuzzParseAliasList ./owfs/mountlib:FuzzParseOptions .:FuzzParseHelperArgs

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

integration: build
	OWFUSE_RACE_DAEMON=1 $(GO) test -race -count=1 ./integration/...

## bench: numbers that hold on another run, all in bin/bench (never a
## tracked file). First owclient's Read against a real owserver next to a
## raw-socket loop: BENCHCOUNT rounds, each a fresh go test process with
## the order of the two rotated, summarised by benchstat (median, 95%
## interval, ratio and p-value). Then integration/fsbench (needs root,
## /dev/fuse, owserver, OWFS's owfs from owfs-fuse, python3): owfuse next
## to owfs and a go-fuse ceiling mounted with owfuse's options,
## FSBENCH_ROUNDS rounds of FSBENCH_ROUND per workload in rotated order,
## median and min-max, messages and CPU per operation, memory, and the
## issue's targets (reported, never asserted); results.md. About 6.5
## minutes on 2 cores. FSBENCH_FLAGS adds flags (go run
## ./integration/fsbench -h lists them).
BENCHTIME      ?= 200ms
BENCHCOUNT     ?= 10
BENCHSTAT      ?= $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
FSBENCH_ROUNDS ?= 10
FSBENCH_ROUND  ?= 500ms
FSBENCH_FLAGS  ?=

bench:
	@mkdir -p bin/bench
	@for i in $$(seq $(BENCHCOUNT)); do \
		OWBENCH_ROUND=$$i $(GO) test -run '^$$' -bench '^BenchmarkRead$$' -benchtime $(BENCHTIME) -count 1 ./owclient || exit 1; \
	done > bin/bench/owclient.txt
	$(BENCHSTAT) -col "/impl@(raw owclient)" bin/bench/owclient.txt | tee bin/bench/owclient-benchstat.txt
	$(GO) run ./integration/fsbench -rounds $(FSBENCH_ROUNDS) -round $(FSBENCH_ROUND) -out bin/bench $(FSBENCH_FLAGS)

clean:
	rm -rf bin
