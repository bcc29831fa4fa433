package owclient

import (
	"bytes"
	"testing"
)

// FuzzReadReply feeds arbitrary bytes to the frame decoder, seeded with
// every captured reply. It must never panic, allocate past its limit or
// return data longer than the payload it read.
func FuzzReadReply(f *testing.F) {
	for _, fr := range loadGoldenFrames(f) {
		if !fr.request {
			f.Add(fr.raw)
		}
	}
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, b []byte) {
		var scratch [HeaderSize]byte
		r := bytes.NewReader(b)
		for i := 0; i < 4; i++ {
			h, data, err := readReply(r, scratch[:], limit)
			if err != nil {
				return
			}
			if len(data) > limit || int64(len(data)) > int64(len(b)) {
				t.Fatalf("data of %d bytes from %d input bytes", len(data), len(b))
			}
			if h.Version != 0 || h.Payload < -1 || (h.Size > 0 && h.Payload > 0 && int(h.Size) != len(data)) {
				t.Fatalf("accepted header %v with %d data bytes", h, len(data))
			}
		}
	})
}

// FuzzParseStructure checks that the structure parser never panics and
// that whatever it accepts survives a round trip through String.
func FuzzParseStructure(f *testing.F) {
	for _, s := range []string{
		"t,000000,000001,ro,000012,v,", "y,-000002,000002,rw,000012,s,", "y,-000001,000002,rw,000003,s,",
		"b,000000,-000001,wo,000008,s,", "D,000000,000001,oo,000008,v,", "d,000000,000001,rw,000024,v,",
		"u,000000,000001,rw,000012,t,", "f,-000001,000004,ro,000051,v,", "b,-000001,000016,rw,000512,v,",
		"a,000000,000001,ro,000032,f,", "l,000000,000001,rw,000256,s,", "", ",,,,,,", "t,1,1,ro,12,v",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseStructure(line)
		if err != nil {
			return
		}
		again, err := ParseStructure(s.String())
		if err != nil || again != s {
			t.Fatalf("%q parsed as %+v, whose String %q parses as %+v, %v", line, s, s.String(), again, err)
		}
	})
}
