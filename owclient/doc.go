// Package owclient is a client for the owserver network protocol of OWFS,
// the 1-Wire file system (TCP port 4304).
//
// A [Client] is safe for concurrent use by many goroutines. It keeps a pool
// of persistent connections to one owserver, sends each request on a
// connection of its own (owserver handles one request at a time per socket)
// and takes every call's deadline from its [context.Context].
//
// # Wire format
//
// Every frame starts with six big-endian signed 32-bit words. Replies whose
// payload word is -1 are keepalive frames: owserver sends one about every
// second while a slow request runs. The client skips them, and each one
// restarts the per-frame inactivity timer ([Options.FrameTimeout]); the
// operation as a whole still ends at the context's deadline.
//
// # Persistence
//
// Requests ask for a persistent connection unless
// [Options.DisablePersistence] is set. The server's decision is read only
// from the final reply of each request; a denied connection is closed and
// the next request dials again. A pooled connection that the server closed
// while idle fails before any reply byte arrives: such a request was never
// processed, so it is sent once more on a fresh connection.
//
// The clones that [Client.WithFlags] and [Client.WithPersistence] return
// share their parent's pool, since flags travel with each request. A
// non-persistent Client dials for every request and closes the connection
// after the reply, so it leaves nothing open and uses up no pooled
// connection; its connections count against [Options.PoolSize] while they
// are open. Closing the Client that [New] returned closes the pool for
// every clone.
//
// # Errors
//
// A negative return code from owserver is a [*ServerError], which matches
// the corresponding [syscall.Errno] with [errors.Is]. Everything else that
// can go wrong on the way is an [*OpError] wrapping a [*ConnError] (the
// network failed), a [*ProtocolError] (the bytes made no sense) or
// [ErrTimeout]. [SafeToRetry] tells whether a failed request provably never
// reached owserver, so that sending it again cannot make owserver act twice.
package owclient
