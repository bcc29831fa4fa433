// Package owtest provides owserver peers for tests, in the manner of
// net/http/httptest: [StartOwserver] runs Debian's real owserver on a free
// loopback port, and [FakeServer] is a scripted in-process server for the
// faults a real one will not produce (malformed frames, silence, storms of
// keepalives).
package owtest
