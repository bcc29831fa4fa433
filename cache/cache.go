package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/owfuse/owfuse/owclient"
)

// Defaults for the zero values of Options.
const (
	DefaultEntries        = 4096
	DefaultRequestTimeout = 10 * time.Second
	// DefaultBytes bounds the cache's memory by default: what a small
	// machine (a Raspberry Pi next to the bus) gives a daemon without
	// noticing, and far more than a bus's values and listings take (a
	// walked 1,000-device bus holds a few MiB).
	DefaultBytes = 16 << 20
)

// Options configure a Cache.
type Options struct {
	// Entries bounds the number of cached listings and values.
	Entries int
	// Bytes bounds their size in bytes, estimated (a value's capacity, a
	// listing's names, and a fixed cost per entry); the least recently
	// used go first. 0 means DefaultBytes.
	Bytes int64
	// Lifetimes per class; the zero value disables caching entirely, so
	// start from DefaultLifetimes.
	Lifetimes Lifetimes
	// RequestTimeout bounds a request that several callers share: it runs
	// on after the first caller gives up, for the others.
	RequestTimeout time.Duration
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
	// Logger hears of what the server sent that the cache had to work
	// around (unusable names, garbage structure lines); nil is silent.
	Logger *slog.Logger
	// Readahead is how many device directories are listed at once in the
	// background after their parent was listed, so that a walk of a big
	// bus (find, ls -R) does not wait for one listing after another;
	// owserver answers them in parallel. 0 disables it.
	Readahead int
}

// Entry is one name in a directory listing.
type Entry struct {
	Name  string
	IsDir bool
}

// Property is what is known about a path's value.
type Property struct {
	// Structure is owserver's /structure line for a device property. Known
	// is false for paths without one (settings, statistics, …) and for
	// properties owserver has no line for.
	Structure owclient.Structure
	Known     bool
	Class     owclient.ChangeClass // Fixed for a directory: its listing has a lifetime of its own
	// InDevice says the path lies in a device directory, not in one of
	// owserver's own (settings, statistics, bus.N/interface, …).
	InDevice bool
}

// Client is what the cache asks of owserver: the calls of
// *owclient.Client it makes, and nothing else, so that a test can answer
// them in-process. An implementation must be safe for concurrent use and
// report failures as owclient does (a *owclient.ServerError for
// owserver's refusals, an error matching owclient.ErrTimeout for a
// timeout): the cache tells them apart.
type Client interface {
	// Addr names the server, for logs.
	Addr() string
	// Dir lists a directory as full paths; a trailing slash marks a
	// directory if DirSlashes says listings have them.
	Dir(ctx context.Context, path string, opts ...owclient.DirOption) ([]string, error)
	DirSlashes() bool
	// Present reports whether owserver serves path; absence is no error.
	Present(ctx context.Context, path string) (bool, error)
	Read(ctx context.Context, path string) ([]byte, error)
	// ReadAt reads size bytes at offset; the cache reads one byte to
	// tell a directory from a file (EISDIR).
	ReadAt(ctx context.Context, path string, size, offset int) ([]byte, error)
	// WriteAt writes data at offset; a *owclient.PartialWriteError says
	// owserver took only part of it.
	WriteAt(ctx context.Context, path string, data []byte, offset int) error
	// Structure returns the parsed /structure line of a family's
	// property; owclient.ErrBadStructure if it does not parse.
	Structure(ctx context.Context, family, property string) (owclient.Structure, error)
}

var _ Client = (*owclient.Client)(nil)

// Cache answers listings, values and structure lines for one owserver
// client. It is safe for concurrent use.
type Cache struct {
	client   Client
	opts     Options
	lru      *store
	flights  singleflight.Group
	gen      atomic.Uint64 // bumped by every write, so that no flight started before it stores its answer
	aliased  atomic.Bool   // a value was read through an alias since the last purge
	counters counters

	ahead   chan aheadJob      // listings to read ahead, for the workers
	stop    context.CancelFunc // ends readahead at Close
	stopped context.Context
	aheadWG sync.WaitGroup

	mu         sync.Mutex // guards following
	structures map[string]Property
	warned     map[string]bool    // see firstWarning
	failed     map[string]failure // timeouts, remembered briefly
	// structureFiles are the /structure paths owserver lists as
	// directories but refuses to list: files (see settleStructure).
	structureFiles map[string]bool
}

// failure is a request that timed out.
type failure struct {
	err   error
	until time.Time // on the cache's clock (Options.Now), as values' expiries are
}

// failMemo is how long a timeout answers the same request. The kernel
// retries a failed lookup at once; without the memo a hung server costs
// every lookup two timeouts. Any answer from owserver ends it.
const failMemo = 250 * time.Millisecond

// familyStructure is owserver's line for every device's family property.
var familyStructure = owclient.Structure{Type: 'a', Elements: 1, Access: owclient.ReadOnly, Size: 2, Change: owclient.Fixed}

type entry struct {
	value   any // []byte or []Entry
	expires time.Time
}

// New returns a cache in front of client, usually an *owclient.Client.
func New(client Client, opts Options) (*Cache, error) {
	if opts.Entries < 0 || opts.Bytes < 0 || opts.RequestTimeout < 0 {
		return nil, errors.New("cache: negative size or timeout")
	}
	if opts.Entries == 0 {
		opts.Entries = DefaultEntries
	}
	if opts.Bytes == 0 {
		opts.Bytes = DefaultBytes
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l, err := newStore(opts.Entries, opts.Bytes)
	if err != nil {
		return nil, err
	}
	c := &Cache{client: client, opts: opts, lru: l, structures: map[string]Property{}, failed: map[string]failure{}, structureFiles: map[string]bool{}}
	c.stopped, c.stop = context.WithCancel(context.Background())
	if opts.Readahead > 0 && opts.Lifetimes.Directory > 0 {
		c.ahead = make(chan aheadJob, aheadQueue)
		for i := 0; i < opts.Readahead; i++ {
			c.aheadWG.Add(1)
			go c.aheadWorker()
		}
	}
	return c, nil
}

// Close stops the background listings and waits for them. It is
// idempotent; the cache still answers afterwards, without readahead.
func (c *Cache) Close() {
	c.stop()
	c.aheadWG.Wait()
}

// readahead lists, in the background, the device directories among a
// fresh listing of parent that are not cached yet.
//
// A listing read ahead reads its own subdirectories ahead in turn, two
// levels below the one asked for at most: the root's devices and their
// errata/ or pages/. Branches (a coupler's main/ and aux/ list devices)
// would otherwise make it endless on a fake bus, where every branch lists
// the whole bus again.
func (c *Cache) readahead(parent string, entries []Entry, level int) {
	lifetime := c.opts.Lifetimes.Directory
	if c.ahead == nil || lifetime <= 0 || level >= maxReadaheadLevel || c.stopped.Err() != nil {
		return
	}
	for _, e := range entries {
		path := strings.TrimSuffix(parent, "/") + "/" + e.Name
		if !e.IsDir || owclient.ParsePath(path).Device == "" {
			continue // files, and owserver's own directories
		}
		key := "d" + path
		if old, ok := c.lru.Peek(key); ok && c.opts.Now().Before(old.expires) {
			continue
		}
		select {
		case c.ahead <- aheadJob{path: path, key: key, level: level + 1}:
		default: // the queue is full: the walk will ask for it itself
		}
	}
}

// aheadJob is a listing to read ahead.
type aheadJob struct {
	path, key string
	level     int
}

// aheadWorker lists what readahead queued until Close. A few workers and a
// bounded queue, not a goroutine per directory: a 1,000-device root would
// otherwise park thousands of goroutines, and their stacks, at once.
func (c *Cache) aheadWorker() {
	defer c.aheadWG.Done()
	lifetime := c.opts.Lifetimes.Directory
	for {
		select {
		case j := <-c.ahead:
			if old, ok := c.lru.Peek(j.key); ok && c.opts.Now().Before(old.expires) {
				continue
			}
			c.shared(c.stopped, j.key, lifetime, func(ctx context.Context) (any, error) { return c.fetchDir(ctx, j.path, j.level) })
		case <-c.stopped.Done():
			return
		}
	}
}

// aheadQueue bounds the listings waiting to be read ahead.
const aheadQueue = 4096

// maxReadaheadLevel bounds how far below a listing readahead goes.
const maxReadaheadLevel = 2

// Addr returns the owserver's address.
func (c *Cache) Addr() string { return c.client.Addr() }

// Lifetimes returns the lifetimes in force.
func (c *Cache) Lifetimes() Lifetimes { return c.opts.Lifetimes }

// Len returns the number of cached listings and values.
func (c *Cache) Len() int { return c.lru.Len() }

// Bytes returns the estimated size of the cached listings and values,
// which Options.Bytes bounds.
func (c *Cache) Bytes() int64 { return c.lru.Bytes() }

func (c *Cache) lookup(key string, n *counter) (any, bool) {
	e, ok := c.lru.Get(key)
	if ok && c.opts.Now().Before(e.expires) {
		n.hits.Add(1)
		return e.value, true
	}
	if ok {
		c.lru.Remove(key)
	}
	n.misses.Add(1)
	return nil, false
}

// shared runs fetch once for all concurrent callers with the same key and,
// if no write intervened, stores its answer for lifetime. Each caller
// waits only as long as its own context allows.
func (c *Cache) shared(ctx context.Context, key string, lifetime time.Duration, fetch func(context.Context) (any, error)) (any, error) {
	if err := c.recentFailure(key); err != nil {
		return nil, err
	}
	gen := c.gen.Load()
	ch := c.flights.DoChan(key+"\x00"+strconv.FormatUint(gen, 10), func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.RequestTimeout)
		defer cancel()
		v, err := fetch(fctx)
		if err == nil && lifetime > 0 && c.gen.Load() == gen {
			c.lru.Add(key, entry{value: v, expires: c.opts.Now().Add(lifetime)})
		}
		c.remember(key, err)
		return v, err
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// remember notes how the request for key ended: a timeout answers the
// same request for failMemo; any answer forgets every timeout.
func (c *Cache) remember(key string, err error) {
	switch {
	case err == nil:
		c.mu.Lock()
		if len(c.failed) > 0 {
			// owserver answers: nothing remembered holds any more.
			clear(c.failed)
		}
		c.mu.Unlock()
	case owclient.IsTimeout(err):
		// Only timeouts: a refused connection fails at once anyway, and
		// a restarted owserver must be used as soon as it listens.
		c.mu.Lock()
		c.failed[key] = failure{err: err, until: c.opts.Now().Add(failMemo)}
		c.mu.Unlock()
	}
}

// alone makes a request under uncached/, which no other caller shares and
// nothing stores, bounded by the request timeout. Its timeouts are
// remembered as shared requests' are: the kernel looks names up in one
// directory one at a time, so without the memo every caller waiting there
// for a frozen owserver would wait a timeout of its own, in turn.
func (c *Cache) alone(ctx context.Context, key string, fetch func(context.Context) (any, error)) (any, error) {
	if err := c.recentFailure(key); err != nil {
		return nil, err
	}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	v, err := fetch(ctx)
	c.remember(key, err)
	return v, err
}

// bounded limits a request the caller makes alone to the request
// timeout. (Shared requests get it in shared; a caller that finds its
// answer cached needs no timer at all: a context with a deadline costs a
// timer per call, 45,000 of them in a walk of a 1,000-device bus.)
func (c *Cache) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.RequestTimeout)
}

func (c *Cache) recentFailure(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.failed[key]
	if !ok {
		return nil
	}
	if c.opts.Now().Before(f.until) {
		return f.err
	}
	delete(c.failed, key)
	return nil
}

// Dir lists the directory at path, sorted by name.
func (c *Cache) Dir(ctx context.Context, path string) ([]Entry, error) {
	loc := owclient.ParsePath(path)
	lifetime := c.opts.Lifetimes.Directory
	if loc.Uncached && loc.Special == "structure" && loc.Hub == "" {
		// Structure lines are not read from the bus: /uncached/structure
		// is /structure. Without this a walk of it, which lists each
		// directory again for every lookup in it, took seconds.
		return c.Dir(ctx, structurePath(loc))
	}
	if loc.Uncached {
		v, err := c.alone(ctx, "u"+path, func(ctx context.Context) (any, error) { return c.fetchDir(ctx, path, 0) })
		if err != nil {
			return nil, err
		}
		return v.([]Entry), nil
	}
	key := "d" + path
	if lifetime > 0 {
		if v, ok := c.lookup(key, &c.counters.directory); ok {
			return v.([]Entry), nil
		}
	}
	v, err := c.shared(ctx, key, lifetime, func(ctx context.Context) (any, error) { return c.fetchDir(ctx, path, 0) })
	if err != nil {
		return nil, err
	}
	return v.([]Entry), nil
}

// fetchDir asks owserver for a listing; level is how far readahead went to
// get here (0: someone asked).
func (c *Cache) fetchDir(ctx context.Context, path string, level int) ([]Entry, error) {
	c.counters.messages[msgDir].Add(1)
	list, err := c.client.Dir(ctx, path)
	if err != nil {
		return nil, err
	}
	entries := parseListing(list)
	if slices.ContainsFunc(entries, func(e Entry) bool { return !usableName(e.Name) }) {
		entries = c.fixNames(ctx, path, entries)
	}
	if !c.client.DirSlashes() {
		// A server without DIRALLSLASH: find the directories another way.
		for i := range entries {
			entries[i].IsDir = c.probeDir(ctx, strings.TrimSuffix(path, "/")+"/"+entries[i].Name)
		}
	}
	loc := owclient.ParsePath(path)
	if loc.Special == "structure" && loc.Hub == "" {
		if err := c.settleStructure(ctx, loc, entries); err != nil {
			return nil, err
		}
	}
	if !loc.Uncached {
		c.readahead(path, entries, level)
	}
	return entries, nil
}

// settleStructure turns into files the directories of a /structure
// listing that owserver refuses to list. owserver 3.2 lists
// /structure/1F/main/, /structure/1F/aux/ and /structure/12/aux/ with a
// slash, but reading them gives a structure line and listing them fails;
// as directories they would break every walk (find: "Not a directory").
// Each directory is probed through the cached listing of its path without
// /uncached/ (structure lines do not change), so a walk, which lists them
// next, sends nothing more.
func (c *Cache) settleStructure(ctx context.Context, loc owclient.Path, entries []Entry) error {
	base := structurePath(loc)
	// In parallel: the first listing of /structure probes some 170
	// directories, which one after another take half a second.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(structureProbes)
	for i := range entries {
		if !entries[i].IsDir {
			continue
		}
		p := base + "/" + entries[i].Name
		// Known already: an /uncached/structure listing, never cached
		// itself, must not cost a goroutine per entry each time.
		c.mu.Lock()
		isFile := c.structureFiles[p]
		c.mu.Unlock()
		if isFile {
			entries[i].IsDir = false
			continue
		}
		if old, ok := c.lru.Peek("d" + p); ok && c.opts.Now().Before(old.expires) {
			continue
		}
		g.Go(func() error {
			_, err := c.Dir(gctx, p)
			var se *owclient.ServerError
			switch {
			case errors.As(err, &se):
				entries[i].IsDir = false
				c.mu.Lock()
				c.structureFiles[p] = true
				c.mu.Unlock()
			case err != nil:
				return fmt.Errorf("listing %s: %w", p, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// structurePath is the path under /structure of a location there, without
// the views before it.
func structurePath(loc owclient.Path) string {
	if loc.Property == "" {
		return "/structure"
	}
	return "/structure/" + loc.Property
}

// structureProbes bounds the directories of one /structure listing probed
// at once.
const structureProbes = 8

// Present reports whether owserver serves a device at path, which its
// parent's listing does not show: an id whose device owserver lists by
// its alias, or another spelling of a listed id. The answer is kept for
// the directory lifetime, as a listing would be, so that a shell probing
// a name again does not ask again. An error means owserver could not
// say: the caller must not take it for absence.
func (c *Cache) Present(ctx context.Context, path string) (bool, error) {
	key := "p" + path
	lifetime := c.opts.Lifetimes.Directory
	if lifetime > 0 {
		if v, ok := c.lookup(key, &c.counters.directory); ok {
			return v.(bool), nil
		}
	}
	v, err := c.shared(ctx, key, lifetime, func(ctx context.Context) (any, error) {
		c.counters.messages[msgPresence].Add(1)
		return c.client.Present(ctx, path)
	})
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

// usableName reports whether a name owserver lists can be looked up
// through the kernel and sent back to owserver: 1 to 255 bytes (NAME_MAX;
// a longer name makes the kernel fail the whole listing) and UTF-8, which
// owclient requires of paths. An alias may be anything up to 256 bytes.
func usableName(name string) bool {
	return name != "" && len(name) <= 255 && utf8.ValidString(name)
}

// fixNames replaces, in a listing of devices, each device listed under an
// alias that cannot be a file name by the device's id, found in owserver's
// alias list; other unusable names are left out. Either way one bad name
// does not fail the listing, and the log says why.
func (c *Cache) fixNames(ctx context.Context, path string, entries []Entry) []Entry {
	var ids map[string]string // alias -> id
	if owclient.ParsePath(path).ListsDevices() {
		c.counters.messages[msgRead].Add(1)
		if list, err := c.client.Read(ctx, "/settings/alias/list"); err == nil {
			ids = parseAliasList(list)
		}
	}
	out := entries[:0]
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.Name] = true
	}
	for _, e := range entries {
		switch {
		case usableName(e.Name):
			out = append(out, e)
		case ids[e.Name] != "" && !seen[ids[e.Name]]:
			if c.firstWarning(path + "\x00" + e.Name) {
				c.log().Warn("a device's alias cannot be a file name; listing it under its id", "dir", path, "alias", e.Name, "id", ids[e.Name])
			}
			seen[ids[e.Name]] = true
			out = append(out, Entry{Name: ids[e.Name], IsDir: e.IsDir})
		default:
			if c.firstWarning(path + "\x00" + e.Name) {
				c.log().Warn("owserver listed a name that cannot be a file name; leaving it out", "dir", path, "name", e.Name)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// parseAliasList reads owserver's /settings/alias/list, lines of
// "10000010EF00005B=alias\r\n" (family, id and CRC in hex), into aliases
// and the ids they name ("10.000010EF0000").
func parseAliasList(b []byte) map[string]string {
	ids := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		sn, alias, ok := strings.Cut(strings.TrimSuffix(line, "\r"), "=")
		if ok && len(sn) == 16 && owclient.IsDeviceName(sn) {
			ids[alias] = strings.ToUpper(sn[:2] + "." + sn[2:14])
		}
	}
	return ids
}

// firstWarning reports whether a warning about key is new, so that a
// listing refreshed every few seconds does not repeat it; it remembers a
// bounded number of keys.
func (c *Cache) firstWarning(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.warned[key] {
		return false
	}
	if c.warned == nil || len(c.warned) >= maxWarned {
		c.warned = map[string]bool{}
	}
	c.warned[key] = true
	return true
}

// maxWarned bounds the warnings remembered by firstWarning.
const maxWarned = 1024

func (c *Cache) log() *slog.Logger {
	if c.opts.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.opts.Logger
}

// parseListing turns owserver's full paths into names, sorted and without
// duplicates (owserver has been seen listing a device twice; the first
// listed is kept). A trailing slash marks a directory.
//
// The names are copied into one string, of which each entry's is a
// part: the listing owserver sent repeats the directory's path in every
// entry, and a name cut from it would keep all of it alive for as long
// as the listing is cached, and the kernel's nodes of its entries live.
func parseListing(list []string) (entries []Entry) {
	entries = make([]Entry, 0, len(list))
	n := 0
	for _, p := range list {
		isDir := strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		name := p[strings.LastIndexByte(p, '/')+1:]
		if name == "" || name == "." || name == ".." {
			continue
		}
		entries = append(entries, Entry{Name: name, IsDir: isDir})
		n += len(name)
	}
	slices.SortStableFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	entries = slices.CompactFunc(entries, func(a, b Entry) bool { return a.Name == b.Name })
	var b strings.Builder
	b.Grow(n)
	for _, e := range entries {
		b.WriteString(e.Name)
	}
	names := b.String()
	for i := range entries {
		l := len(entries[i].Name)
		entries[i].Name, names = names[:l], names[l:]
	}
	return entries
}

// probeDir tells a directory from a file on servers that list without
// slashes: device and special names are directories; a device property is
// one if its structure line says so; anything else is one if reading it
// says EISDIR.
func (c *Cache) probeDir(ctx context.Context, path string) bool {
	loc := owclient.ParsePath(path)
	if loc.Property == "" {
		return true
	}
	if loc.Device != "" {
		// The structure line says, and is read once per family and
		// property: a listing of 100,000 devices of one family costs a
		// few dozen reads this way, not one per entry.
		if p, err := c.Property(ctx, path); err == nil && p.Known {
			return p.Structure.IsDir()
		}
	}
	c.counters.messages[msgRead].Add(1)
	_, err := c.client.ReadAt(ctx, path, 1, 0)
	return errors.Is(err, syscall.EISDIR)
}

// valueKey is the key of a value: the same device property seen through
// /bus.0/, /alarm/, /uncached/, a hub's branch or any spelling of the
// device's id is one value.
func valueKey(loc owclient.Path) string {
	if loc.Device != "" {
		return "v/" + canonicalDevice(loc.Device[strings.LastIndexByte(loc.Device, '/')+1:]) + "/" + loc.Property
	}
	if loc.Hub != "" {
		return "v/" + hubKey(loc) + "/" + loc.Special + "/" + loc.Property
	}
	if loc.Bus != "" {
		// Another server's settings, system, statistics… when owserver is
		// in front of others: not the same value as the front's own.
		return "v/" + loc.Bus + "/" + loc.Special + "/" + loc.Property
	}
	return "v/" + loc.Special + "/" + loc.Property
}

// Read returns the value at path, from the cache while it is fresh for its
// class.
func (c *Cache) Read(ctx context.Context, path string) ([]byte, error) {
	loc := owclient.ParsePath(path)
	if loc.Uncached {
		v, err := c.alone(ctx, "u"+path, func(ctx context.Context) (any, error) { return c.fetchValue(ctx, path) })
		if err != nil {
			return nil, err
		}
		return v.([]byte), nil
	}
	p, err := c.Property(ctx, path)
	if err != nil {
		return nil, err
	}
	// With a lifetime of 0 nothing is stored, but readers that arrive
	// while a read is under way still share it.
	lifetime := c.opts.Lifetimes.of(p.Class)
	key := valueKey(loc)
	if loc.Device != "" && loc.Family == "" {
		c.aliased.Store(true)
	}
	if lifetime > 0 {
		if v, ok := c.lookup(key, c.counters.of(p.Class)); ok {
			return v.([]byte), nil
		}
	}
	v, err := c.shared(ctx, key, lifetime, func(ctx context.Context) (any, error) { return c.fetchValue(ctx, path) })
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// Cached returns the value at path and how much longer it stays fresh,
// if the cache holds it fresh, without asking owserver; a guess at its
// length costs nothing this way, and a reader that comes before then is
// served this very value.
func (c *Cache) Cached(path string) (v []byte, fresh time.Duration, ok bool) {
	loc := owclient.ParsePath(path)
	if loc.Uncached {
		return nil, 0, false
	}
	e, ok := c.lru.Peek(valueKey(loc))
	if !ok {
		return nil, 0, false
	}
	fresh = e.expires.Sub(c.opts.Now())
	v, ok = e.value.([]byte)
	if !ok || fresh <= 0 {
		return nil, 0, false
	}
	return v, fresh, true
}

func (c *Cache) fetchValue(ctx context.Context, path string) ([]byte, error) {
	c.counters.messages[msgRead].Add(1)
	return c.client.Read(ctx, path)
}

// Write sends data to path and drops what the write may have changed: the
// value itself, and for an alias or a setting everything (an alias renames
// a directory; a setting such as the temperature scale changes every
// value).
func (c *Cache) Write(ctx context.Context, path string, data []byte) error {
	return c.WriteAt(ctx, path, data, 0)
}

// WriteAt writes data at a byte offset into the value at path (a memory
// page or an EEPROM), exactly as given; see Write.
func (c *Cache) WriteAt(ctx context.Context, path string, data []byte, offset int) error {
	c.counters.messages[msgWrite].Add(1)
	ctx, cancel := c.bounded(ctx)
	err := c.client.WriteAt(ctx, path, data, offset)
	cancel()
	loc := owclient.ParsePath(path)
	if loc.Property == "alias" || loc.Special == "settings" {
		c.Purge()
	} else {
		c.gen.Add(1)
		c.lru.Remove(valueKey(loc))
		if loc.Device != "" && (loc.Family == "" || c.aliased.Load()) {
			c.dropAliased(loc)
		}
	}
	return err
}

// dropAliased drops the property written at loc for every device named
// by an alias, and for every device if loc names its device by an alias:
// the cache cannot tell which id an alias stands for without asking, and
// writes are rare enough to pay a pass over the keys.
func (c *Cache) dropAliased(loc owclient.Path) {
	suffix := "/" + loc.Property
	for _, k := range c.lru.Keys() {
		if !strings.HasPrefix(k, "v/") || !strings.HasSuffix(k, suffix) {
			continue
		}
		dev := strings.TrimSuffix(k[2:], suffix)
		if strings.Contains(dev, "/") {
			continue // not a device's value
		}
		if loc.Family == "" || !owclient.IsDeviceName(dev) {
			c.lru.Remove(k)
		}
	}
}

// Purge drops every cached listing, value and structure line.
func (c *Cache) Purge() {
	c.gen.Add(1)
	c.lru.Purge()
	c.aliased.Store(false)
	c.mu.Lock()
	c.structures = map[string]Property{}
	c.structureFiles = map[string]bool{}
	c.mu.Unlock()
}

// Property returns what owserver's structure says of path (a device
// property) or, for other paths, the class their place implies. Structure
// lines are fetched once per family and property: they do not touch the
// bus and never change.
func (c *Cache) Property(ctx context.Context, path string) (Property, error) {
	loc := owclient.ParsePath(path)
	if loc.Device == "" {
		switch {
		case loc.Special == "structure":
			return Property{Class: owclient.Fixed}, nil
		case loc.Special == "simultaneous" && loc.Property != "":
			// owserver has lines for these too, under
			// /structure/simultaneous: some are writable, some not.
			return c.structure(ctx, "simultaneous", loc.Property)
		}
		if strings.HasSuffix(loc.Special, "/interface") && strings.HasPrefix(loc.Property, "settings/") {
			return Property{Class: owclient.Stable}, nil // the bus master's settings change when written
		}
		return Property{Class: topClass(loc.Special)}, nil
	}
	if loc.Property == "" {
		return Property{Structure: owclient.Structure{Type: 'D', Access: owclient.NoAccess}, Known: true, Class: owclient.Fixed}, nil
	}
	if loc.Property == "family" {
		// Known without asking, and needed to ask about aliased devices.
		return Property{Structure: familyStructure, Known: true, Class: owclient.Fixed, InDevice: true}, nil
	}
	family := loc.Family
	if family == "" {
		// An alias: the family is a property of the device.
		b, err := c.Read(ctx, loc.Device+"/family")
		if err != nil {
			return Property{}, err
		}
		family = strings.TrimSpace(string(b))
	}
	p, err := c.structure(ctx, family, loc.Property)
	p.InDevice = true
	return p, err
}

// structure returns what /structure/FAMILY/PROPERTY says, fetched once.
func (c *Cache) structure(ctx context.Context, family, property string) (Property, error) {
	key := family + "/" + property
	c.mu.Lock()
	p, ok := c.structures[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	v, err := c.shared(ctx, "s"+key, 0, func(ctx context.Context) (any, error) {
		c.counters.messages[msgRead].Add(1)
		st, err := c.client.Structure(ctx, family, property)
		var se *owclient.ServerError
		switch {
		case err == nil:
			return Property{Structure: st, Known: true, Class: st.Change}, nil
		case errors.Is(err, syscall.EISDIR):
			return Property{Structure: owclient.Structure{Type: 'D', Access: owclient.NoAccess}, Known: true, Class: owclient.Fixed}, nil
		case errors.As(err, &se):
			// owserver has no line for it (hidden or newer properties):
			// assume the worst, a volatile value.
			return Property{Class: owclient.Volatile}, nil
		case errors.Is(err, owclient.ErrBadStructure):
			// Garbage where a line should be: as if there were none, once,
			// rather than an error on every lookup.
			c.log().Warn("owserver sent a structure line that does not parse; treating the property as volatile, without one", "family", family, "property", property, "err", err)
			return Property{Class: owclient.Volatile}, nil
		}
		return nil, err
	})
	if err != nil {
		return Property{}, err
	}
	p = v.(Property)
	c.mu.Lock()
	c.structures[key] = p
	c.mu.Unlock()
	return p, nil
}
