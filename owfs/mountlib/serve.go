package mountlib

import "context"

// Serve serves m until it is unmounted from outside (umount,
// fusermount3 -u) or ctx ends, when it unmounts m itself (see Unmount).
// It returns nil, or the unmount's error; m is closed either way.
func (m *Mounted) Serve(ctx context.Context) error {
	select {
	case <-m.served:
		m.Close()
		return nil
	case <-ctx.Done():
		_, err := m.Unmount() // logs a lazy detach itself
		return err
	}
}
