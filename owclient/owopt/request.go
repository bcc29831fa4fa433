package owopt

import (
	"time"

	"github.com/owfuse/owfuse/owclient"
)

// Request is how owserver is asked, by the toolbox and by the mount alike:
// the scales and name format it answers in, whether it reads the bus past
// its own cache, and how long an answer may take.
type Request struct {
	TempScale     owclient.TempScale
	PressureScale owclient.PressureScale
	Format        owclient.DeviceFormat
	Uncached      bool          // every read asks the bus (owserver's FLG_UNCACHED)
	Timeout       time.Duration // per owserver request
}

// The bounds of a Request's Timeout: below 10ms nothing answers, and a
// bus read takes a second at most.
const (
	MinTimeout = 10 * time.Millisecond
	MaxTimeout = 10 * time.Minute
)

// DefaultRequest is Celsius, millibar, f.i, owserver's cache and 10s.
func DefaultRequest() Request { return Request{Timeout: 10 * time.Second} }

// Flags returns base with the scales, the name format and the uncached
// bit of r.
func (r Request) Flags(base owclient.Flags) owclient.Flags {
	f := base.WithTempScale(r.TempScale).WithPressureScale(r.PressureScale).WithDeviceFormat(r.Format)
	if r.Uncached {
		f |= owclient.FlagUncached
	}
	return f
}

// Shared are the options of a Request, for a table whose configuration
// holds one: the same names, help, parsing and bounds in the toolbox
// and in the mount.
type Shared[C any] struct {
	TempScale, PressureScale, Format, Uncached, Timeout Option[C]
}

// SharedOptions returns the options of the Request at(c) of a C.
func SharedOptions[C any](at func(*C) *Request) Shared[C] {
	return Shared[C]{
		TempScale: Choice("temp_scale", "temperature `SCALE`: C, F, K or R",
			[]owclient.TempScale{owclient.Celsius, owclient.Fahrenheit, owclient.Kelvin, owclient.Rankine},
			owclient.ParseTempScale, func(c *C) *owclient.TempScale { return &at(c).TempScale }),
		PressureScale: Choice("pressure_scale", "pressure `UNIT`: mbar, atm, mmHg, inHg, psi or Pa",
			[]owclient.PressureScale{owclient.Millibar, owclient.Atmosphere, owclient.MillimetreHg, owclient.InchHg, owclient.PSI, owclient.Pascal},
			owclient.ParsePressureScale, func(c *C) *owclient.PressureScale { return &at(c).PressureScale }),
		Format: Choice("format", "device name `FORMAT`: f.i, fi, f.i.c, f.ic, fi.c or fic (f family, i id, c crc)",
			[]owclient.DeviceFormat{owclient.FormatFDI, owclient.FormatFI, owclient.FormatFDIDC, owclient.FormatFDIC, owclient.FormatFIDC, owclient.FormatFIC},
			owclient.ParseDeviceFormat, func(c *C) *owclient.DeviceFormat { return &at(c).Format }),
		Uncached: Switch("uncached", "every read asks the 1-Wire bus, bypassing owserver's own cache",
			func(c *C) *bool { return &at(c).Uncached }),
		Timeout: Duration("timeout", "give up on an owserver request after `DURATION` (500ms, 2m, or a bare number of seconds as in ow-shell)",
			MinTimeout, MaxTimeout, func(c *C) *time.Duration { return &at(c).Timeout }),
	}
}
