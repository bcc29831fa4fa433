// Package owfs is the FUSE nodes of an owserver's tree, for go-fuse's fs
// API: directories are owserver directories, files are property values.
// Mounting and unmounting them is package mountlib's job.
//
// # Tree
//
// Every directory is listed with MSG_DIRALLSLASH through the cache, so the
// entry types are right (OWFS's own owfs reports every entry as a
// directory). Inode numbers are a hash of the owserver path, stable across
// lookups. A file's mode comes from its /structure line: ro is 0444, rw is
// 0644, wo is 0200; the owner is the mount's uid and gid.
//
// # Reading
//
// Property files report size 0 and are opened with FOPEN_DIRECT_IO, as
// procfs does for generated files: every reader (cat, wc -c, cp, Python's
// and Go's whole-file reads) gets exactly the bytes of the value. The value
// is read once per open, so all reads of one handle see one value.
//
// # Writing
//
// A handle collects writes and commits them as one MSG_WRITE as soon as the
// buffer ends in a newline, so that bash's builtin echo, which ignores
// errors at close, still reports a refused value; otherwise at flush,
// fsync or release. One trailing newline (or CRLF) is removed before
// sending. Names cannot be created, removed or renamed, and modes cannot
// change: those calls fail with EPERM (EROFS on a read-only mount).
//
// # Caching
//
// Values and listings come through package cache. The kernel keeps entries
// and attributes (and names that do not exist) for the directory lifetime,
// so that shells probing for .git do not reach owserver every time.
//
// # Errors
//
// owserver's return codes become their errno (a bad value is EINVAL); a
// server that cannot be reached or does not answer in time is EIO, never
// ENOENT; an interrupted call is EINTR.
package owfs
