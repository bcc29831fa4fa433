// Package integration tests the owfuse binary from the outside. TestMain
// builds it once; each test starts real owserver processes of its own
// (owtest.StartOwserver) and compares what owfuse prints with what
// ow-shell's owdir, owread, owwrite and owpresent print for the same
// server and paths. Without owserver or ow-shell the tests skip, except
// under CI=true, where they fail.
package integration
