package owclient

import (
	"fmt"
	"strings"
)

// Flags is the control-flag word of a request. The low bits are switches;
// temperature scale, pressure scale and device-name format are small
// enumerations packed into the upper bits (see the With* helpers).
type Flags uint32

// Flag bits, from OWFS's ow_parsedname.h. pyownet's names are FLG_*.
const (
	FlagBusRet      Flags = 0x00000002 // list bus.N, settings, uncached… in directories
	FlagPersistence Flags = 0x00000004 // request (and, in replies, grant) a persistent socket
	FlagAlias       Flags = 0x00000008 // use aliases
	FlagSafeMode    Flags = 0x00000010 // restrict to reads (ignored by owserver 3.2p4)
	FlagUncached    Flags = 0x00000020 // bypass owserver's cache, like an /uncached/ prefix
	FlagTrim        Flags = 0x00000040 // numbers without space padding
	FlagOwnet       Flags = 0x00000100 // "ownet request", set by OWFS's own clients

	tempShift     = 16
	tempMask      = Flags(0x3) << tempShift
	pressureShift = 18
	pressureMask  = Flags(0x7) << pressureShift
	formatShift   = 24
	formatMask    = Flags(0xFF) << formatShift
)

// TempScale is the temperature scale owserver formats temperatures in.
type TempScale uint8

// Temperature scales (FLG_TEMP_C …).
const (
	Celsius TempScale = iota
	Fahrenheit
	Kelvin
	Rankine
)

// PressureScale is the unit owserver formats pressures in.
type PressureScale uint8

// Pressure scales (FLG_PRESS_MBAR …).
const (
	Millibar PressureScale = iota
	Atmosphere
	MillimetreHg
	InchHg
	PSI
	Pascal
)

// DeviceFormat is how owserver spells device names in listings: f is the
// family, i the id, c the CRC, and "." a dot between them.
type DeviceFormat uint8

// Device-name formats (FLG_FORMAT_FDI …).
const (
	FormatFDI   DeviceFormat = iota // 10.67C6697351FF (the default)
	FormatFI                        // 1067C6697351FF
	FormatFDIDC                     // 10.67C6697351FF.8D
	FormatFDIC                      // 10.67C6697351FF8D
	FormatFIDC                      // 1067C6697351FF.8D
	FormatFIC                       // 1067C6697351FF8D
)

var (
	tempNames     = []string{"C", "F", "K", "R"}
	pressureNames = []string{"mbar", "atm", "mmHg", "inHg", "psi", "Pa"}
	formatNames   = []string{"f.i", "fi", "f.i.c", "f.ic", "fi.c", "fic"}
)

// String returns the scale's letter: C, F, K or R.
func (s TempScale) String() string { return enumName(tempNames, int(s)) }

// String returns the unit: mbar, atm, mmHg, inHg, psi or Pa.
func (s PressureScale) String() string { return enumName(pressureNames, int(s)) }

// String returns owshell's spelling of the format: f.i, fi, f.i.c, f.ic,
// fi.c or fic.
func (f DeviceFormat) String() string { return enumName(formatNames, int(f)) }

func enumName(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("%d", i)
}

// ParseTempScale accepts C, F, K, R or the scale's name in any case
// ("celsius", "Fahrenheit", …).
func ParseTempScale(s string) (TempScale, error) {
	long := []string{"celsius", "fahrenheit", "kelvin", "rankine"}
	for i := range tempNames {
		if strings.EqualFold(s, tempNames[i]) || strings.EqualFold(s, long[i]) {
			return TempScale(i), nil
		}
	}
	return 0, fmt.Errorf("owclient: unknown temperature scale %q (want C, F, K or R)", s)
}

// ParsePressureScale accepts mbar, atm, mmHg, inHg, psi or Pa in any case.
func ParsePressureScale(s string) (PressureScale, error) {
	for i, n := range pressureNames {
		if strings.EqualFold(s, n) {
			return PressureScale(i), nil
		}
	}
	return 0, fmt.Errorf("owclient: unknown pressure scale %q (want one of %s)", s, strings.Join(pressureNames, ", "))
}

// ParseDeviceFormat accepts the owshell spellings f.i, fi, f.i.c, f.ic,
// fi.c and fic (also with the letters in upper case).
func ParseDeviceFormat(s string) (DeviceFormat, error) {
	for i, n := range formatNames {
		if strings.EqualFold(s, n) {
			return DeviceFormat(i), nil
		}
	}
	return 0, fmt.Errorf("owclient: unknown device format %q (want one of %s)", s, strings.Join(formatNames, ", "))
}

// TempScale returns the temperature scale encoded in f.
func (f Flags) TempScale() TempScale { return TempScale((f & tempMask) >> tempShift) }

// PressureScale returns the pressure scale encoded in f.
func (f Flags) PressureScale() PressureScale {
	return PressureScale((f & pressureMask) >> pressureShift)
}

// DeviceFormat returns the device-name format encoded in f.
func (f Flags) DeviceFormat() DeviceFormat { return DeviceFormat((f & formatMask) >> formatShift) }

// WithTempScale returns f with its temperature scale set to s.
func (f Flags) WithTempScale(s TempScale) Flags {
	return f&^tempMask | Flags(s)<<tempShift&tempMask
}

// WithPressureScale returns f with its pressure scale set to s.
func (f Flags) WithPressureScale(s PressureScale) Flags {
	return f&^pressureMask | Flags(s)<<pressureShift&pressureMask
}

// WithDeviceFormat returns f with its device-name format set to d.
func (f Flags) WithDeviceFormat(d DeviceFormat) Flags {
	return f&^formatMask | Flags(d)<<formatShift&formatMask
}
