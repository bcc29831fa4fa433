//go:build race

package integration

// relRace reports whether the tests run under the race detector, where
// the load tests do less.
const relRace = true
