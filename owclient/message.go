package owclient

import (
	"encoding/binary"
	"fmt"
)

// MsgType is the type word of a request.
type MsgType int32

// Message types, from OWFS's module/owlib/src/include/ow_message.h.
const (
	MsgError       MsgType = 0
	MsgNop         MsgType = 1
	MsgRead        MsgType = 2
	MsgWrite       MsgType = 3
	MsgDir         MsgType = 4
	MsgSize        MsgType = 5 // obsolete: owserver answers -42
	MsgPresence    MsgType = 6
	MsgDirAll      MsgType = 7
	MsgGet         MsgType = 8
	MsgDirAllSlash MsgType = 9
	MsgGetSlash    MsgType = 10
)

var msgNames = [...]string{"ERROR", "NOP", "READ", "WRITE", "DIR", "SIZE", "PRESENCE", "DIRALL", "GET", "DIRALLSLASH", "GETSLASH"}

// String returns the OWFS name of t without its MSG_ prefix, e.g. "READ".
func (t MsgType) String() string {
	if t >= 0 && int(t) < len(msgNames) {
		return msgNames[t]
	}
	return fmt.Sprintf("MSG(%d)", int32(t))
}

// HeaderSize is the length of every frame header in bytes.
const HeaderSize = 24

// MaxServerPayload is owserver's own limit for a request payload and for a
// READ size (MAX_OWSERVER_PROTOCOL_PAYLOAD_SIZE).
const MaxServerPayload = 100050

// keepalivePayload marks a reply header as a keepalive ("ping") frame.
const keepalivePayload = -1

// RequestHeader is the header of a frame sent to owserver.
type RequestHeader struct {
	Version int32
	Payload int32 // length of the payload that follows
	Type    MsgType
	Flags   Flags
	Size    int32 // READ: most bytes wanted; WRITE: length of the data
	Offset  int32
}

// ReplyHeader is the header of a frame received from owserver.
type ReplyHeader struct {
	Version int32
	Payload int32 // length of the payload that follows; -1 for a keepalive frame
	Ret     int32 // negative errno on failure; READ: bytes returned
	Flags   Flags
	Size    int32 // how many payload bytes are data
	Offset  int32 // READ: echoed offset; directories: OR of device flags
}

// IsKeepalive reports whether h is a keepalive frame, which carries no reply.
func (h ReplyHeader) IsKeepalive() bool { return h.Payload == keepalivePayload }

// AppendRequestHeader appends the 24-byte wire form of h to b.
func AppendRequestHeader(b []byte, h RequestHeader) []byte {
	return appendWords(b, h.Version, h.Payload, int32(h.Type), int32(h.Flags), h.Size, h.Offset)
}

// AppendReplyHeader appends the 24-byte wire form of h to b; the fake
// servers in tests use it.
func AppendReplyHeader(b []byte, h ReplyHeader) []byte {
	return appendWords(b, h.Version, h.Payload, h.Ret, int32(h.Flags), h.Size, h.Offset)
}

func appendWords(b []byte, words ...int32) []byte {
	for _, w := range words {
		b = binary.BigEndian.AppendUint32(b, uint32(w))
	}
	return b
}

func words(b []byte) (w [6]int32) {
	for i := range w {
		w[i] = int32(binary.BigEndian.Uint32(b[4*i:]))
	}
	return w
}

// ParseRequestHeader decodes the first 24 bytes of b, which must be at least
// that long.
func ParseRequestHeader(b []byte) RequestHeader {
	w := words(b)
	return RequestHeader{Version: w[0], Payload: w[1], Type: MsgType(w[2]), Flags: Flags(uint32(w[3])), Size: w[4], Offset: w[5]}
}

// ParseReplyHeader decodes the first 24 bytes of b, which must be at least
// that long. It does not judge the values: a Client checks the version,
// the payload length against [Options.MaxPayload] and the size against the
// payload before it reads on, and a reply that fails is a [*ProtocolError].
func ParseReplyHeader(b []byte) ReplyHeader {
	w := words(b)
	return ReplyHeader{Version: w[0], Payload: w[1], Ret: w[2], Flags: Flags(uint32(w[3])), Size: w[4], Offset: w[5]}
}

// String formats h the way the captured frames in OWFS notes do.
func (h RequestHeader) String() string {
	return fmt.Sprintf("version=%#x payload=%d type=%d(%v) flags=%#08x size=%d offset=%d",
		h.Version, h.Payload, int32(h.Type), h.Type, uint32(h.Flags), h.Size, h.Offset)
}

// String formats h the way the captured frames in OWFS notes do.
func (h ReplyHeader) String() string {
	return fmt.Sprintf("version=%#x payload=%d ret=%d flags=%#08x size=%d offset=%d",
		h.Version, h.Payload, h.Ret, uint32(h.Flags), h.Size, h.Offset)
}

// AppendRequest appends a whole request frame to b: h with its Payload
// word set to len(payload), then payload.
func AppendRequest(b []byte, h RequestHeader, payload []byte) []byte {
	h.Payload = int32(len(payload))
	return append(AppendRequestHeader(b, h), payload...)
}

// pathPayload is the payload of a request naming path: the path, a NUL and
// then data (for writes), with no NUL after the data.
func pathPayload(path string, data []byte) []byte {
	p := make([]byte, 0, len(path)+1+len(data))
	p = append(p, path...)
	p = append(p, 0)
	return append(p, data...)
}
