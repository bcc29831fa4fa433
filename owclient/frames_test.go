package owclient

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// goldenFrame is one frame captured from Debian's owserver 3.2p4, as dumped
// in testdata/owserver-frames.md.
type goldenFrame struct {
	where   string // section heading and line, for failure messages
	request bool
	fields  map[string]int64 // the header as the capture tool decoded it
	raw     []byte
}

var (
	frameLine = regexp.MustCompile(`(-->|<--)(.*)$`)
	fieldRe   = regexp.MustCompile(`(\w+)=(-?0x[0-9a-fA-F]+|-?\d+)`)
	hexLine   = regexp.MustCompile(`^\s+[0-9a-f]{4}  ((?:[0-9a-f]{2} ?)+)`)
)

// loadGoldenFrames parses every frame dump in the captures file.
func loadGoldenFrames(t testing.TB) []goldenFrame {
	t.Helper()
	f, err := os.Open("testdata/owserver-frames.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var frames []goldenFrame
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			section = line
			continue
		}
		if m := frameLine.FindStringSubmatch(line); m != nil {
			fr := goldenFrame{where: section + " line " + strconv.Itoa(n), request: m[1] == "-->", fields: map[string]int64{}}
			for _, fm := range fieldRe.FindAllStringSubmatch(m[2], -1) {
				v, err := strconv.ParseInt(strings.Replace(fm[2], "0x", "", 1), map[bool]int{true: 16, false: 10}[strings.Contains(fm[2], "0x")], 64)
				if err != nil {
					t.Fatalf("line %d: %v", n, err)
				}
				fr.fields[fm[1]] = v
			}
			frames = append(frames, fr)
			continue
		}
		if m := hexLine.FindStringSubmatch(line); m != nil && len(frames) > 0 {
			b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(m[1]), " ", ""))
			if err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			last := &frames[len(frames)-1]
			last.raw = append(last.raw, b...)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return frames
}

// TestGoldenFramesHeaders decodes and re-encodes the header of every
// captured frame byte for byte, and checks the values against the capture
// tool's own decoding.
func TestGoldenFramesHeaders(t *testing.T) {
	frames := loadGoldenFrames(t)
	checked := 0
	for _, fr := range frames {
		if len(fr.raw) < HeaderSize {
			continue // capture listed without a dump
		}
		checked++
		hdr := fr.raw[:HeaderSize]
		var got map[string]int64
		var again []byte
		if fr.request {
			h := ParseRequestHeader(hdr)
			got = map[string]int64{"version": int64(h.Version), "payload": int64(h.Payload), "type": int64(h.Type),
				"flags": int64(uint32(h.Flags)), "size": int64(h.Size), "offset": int64(h.Offset)}
			again = AppendRequestHeader(nil, h)
		} else {
			h := ParseReplyHeader(hdr)
			got = map[string]int64{"version": int64(h.Version), "payload": int64(h.Payload), "ret": int64(h.Ret),
				"flags": int64(uint32(h.Flags)), "size": int64(h.Size), "offset": int64(h.Offset)}
			again = AppendReplyHeader(nil, h)
		}
		for k, want := range fr.fields {
			if got[k] != want {
				t.Errorf("%s: %s decoded as %d, capture says %d", fr.where, k, got[k], want)
			}
		}
		if !bytes.Equal(again, hdr) {
			t.Errorf("%s: re-encoded header\n got %x\nwant %x", fr.where, again, hdr)
		}
	}
	if checked < 100 {
		t.Fatalf("checked %d frames, the captures hold over 100: parser broken?", checked)
	}
}

// TestGoldenFramesReplies reads every complete captured reply with the
// client's frame reader.
func TestGoldenFramesReplies(t *testing.T) {
	checked := 0
	for _, fr := range loadGoldenFrames(t) {
		if fr.request || len(fr.raw) < HeaderSize {
			continue
		}
		h := ParseReplyHeader(fr.raw)
		if h.Payload > 0 && len(fr.raw) != HeaderSize+int(h.Payload) {
			continue // dump shortened in the notes
		}
		checked++
		var scratch [HeaderSize]byte
		got, data, err := readReply(bytes.NewReader(fr.raw), scratch[:], DefaultMaxPayload)
		if err != nil {
			t.Errorf("%s: %v", fr.where, err)
			continue
		}
		if got != h {
			t.Errorf("%s: header %v, want %v", fr.where, got, h)
		}
		want := fr.raw[HeaderSize:]
		if h.Size > 0 && h.Payload > 0 {
			want = want[:h.Size]
		}
		if !bytes.Equal(data, want) {
			t.Errorf("%s: data %q, want %q", fr.where, data, want)
		}
	}
	if checked < 40 {
		t.Fatalf("checked %d complete replies, want at least 40", checked)
	}
}

// TestGoldenFramesRequests rebuilds every well-formed captured request from
// its header fields and payload, byte for byte.
func TestGoldenFramesRequests(t *testing.T) {
	checked := 0
	for _, fr := range loadGoldenFrames(t) {
		if !fr.request || len(fr.raw) < HeaderSize {
			continue
		}
		h := ParseRequestHeader(fr.raw)
		payload := fr.raw[HeaderSize:]
		if h.Version != 0 || int(h.Payload) != len(payload) {
			continue // deliberately malformed, tokens, or shortened
		}
		checked++
		got := AppendRequest(nil, RequestHeader{Type: h.Type, Flags: h.Flags, Size: h.Size, Offset: h.Offset}, payload)
		if !bytes.Equal(got, fr.raw) {
			t.Errorf("%s:\n got %x\nwant %x", fr.where, got, fr.raw)
		}
		if h.Payload > 0 && bytes.IndexByte(payload, 0) > 0 && h.Type != MsgWrite {
			path := string(payload[:bytes.IndexByte(payload, 0)])
			if p := pathPayload(path, nil); len(p) == len(payload) && !bytes.Equal(p, payload) {
				t.Errorf("%s: path payload %q, want %q", fr.where, p, payload)
			}
		}
	}
	if checked < 30 {
		t.Fatalf("checked %d requests, want at least 30", checked)
	}
}
