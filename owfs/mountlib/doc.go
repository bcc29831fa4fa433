// Package mountlib mounts an owserver's tree, served by package owfs, and
// unmounts it: the settings of a mount and their table (flags, -o options,
// environment variables), the checks made before mounting, the Prometheus
// metrics server, and an unmount that ends the calls waiting for owserver
// and detaches a busy mount rather than hang.
//
// It leaves the process to its caller: signals, daemonizing and the
// runtime's settings are decided in package main, so that a program that
// embeds a mount keeps its own.
package mountlib
