// Package cache sits between the filesystem and owserver: it answers
// directory listings, property values and structure lines from a bounded
// LRU, each for as long as its change class allows, and makes concurrent
// identical requests share one owserver message.
//
// The lifetime of a value comes from the change class in the property's
// /structure line: fixed, stable, volatile (which includes owserver's
// "timer" class), plus a lifetime of its own for directory listings.
// Paths under /uncached/ are never cached.
//
// The package knows nothing of FUSE; it is usable by any program that
// reads an owserver often.
package cache
