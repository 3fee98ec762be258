package godot

import (
	"encoding/binary"
	"math"
)

// pathFlag marks a node field that holds 0x80000000|offset of a full node
// path appended after the arguments, instead of a path-cache id.
const pathFlag = 0x80000000

// RPC3 is a Godot 3 remote call or remote set (MultiplayerAPI::_send_rpc):
//
//	[0 call | 1 set][u32 node][name\0]
//	  call: [u8 argc][argc variants]   set: [1 variant]
//	  [path\0] only when node = 0x80000000|offset-of-path
type RPC3 struct {
	Set    bool   // REMOTE_SET (rset): Args holds exactly the one value
	NodeID uint32 // path-cache id (see SIMPLIFY_PATH); used when Path is ""
	Path   string // node path relative to the scene root, sent in full
	Method string // method name, or property name for rset
	Args   []any  // variants, see AppendVariant
}

// AppendRPC3 appends r as a Godot 3 remote-call payload. With a Path it
// writes the full-path form Godot uses for peers that have not confirmed the
// path yet; it needs no prior SIMPLIFY_PATH. It returns b unchanged and an
// error if a name or path holds a NUL ([ErrCString]), NodeID has bit 31 set
// ([ErrPathOffset]), there are more than 255 arguments or an rset does not
// have exactly one ([ErrTooManyArgs]), or an argument does not encode.
func AppendRPC3(b []byte, r RPC3) ([]byte, error) {
	if !validCString(r.Method) || !validCString(r.Path) {
		return b, ErrCString
	}
	if r.Path == "" && r.NodeID&pathFlag != 0 {
		return b, ErrPathOffset
	}
	if len(r.Args) > 255 || (r.Set && len(r.Args) != 1) {
		return b, ErrTooManyArgs
	}
	start := len(b)
	cmd := byte(Cmd3RemoteCall)
	if r.Set {
		cmd = Cmd3RemoteSet
	}
	out := append(b, cmd)
	out = binary.LittleEndian.AppendUint32(out, r.NodeID)
	out = appendCString(out, r.Method)
	if !r.Set {
		out = append(out, byte(len(r.Args)))
	}
	var err error
	for _, a := range r.Args {
		if out, err = appendVariant(out, V3, &ids3, a, 0); err != nil {
			return b, err
		}
	}
	if r.Path != "" {
		binary.LittleEndian.PutUint32(out[start+1:], pathFlag|uint32(len(out)-start))
		out = appendCString(out, r.Path)
	}
	return out, nil
}

// ParseRPC3 parses a Godot 3 remote-call or remote-set payload
// (MultiplayerAPI::_process_packet, _process_get_node, _process_rpc,
// _process_rset). Beyond Godot's own checks it requires the arguments to end
// exactly where the path (or the packet) starts, and the path to be one
// NUL-terminated string filling the rest. Other commands give [ErrNotRPC].
func ParseRPC3(p []byte) (RPC3, error) {
	if len(p) < 1 {
		return RPC3{}, ErrShort
	}
	var r RPC3
	switch p[0] {
	case Cmd3RemoteCall:
	case Cmd3RemoteSet:
		r.Set = true
	default:
		if p[0] > Cmd3Raw {
			return RPC3{}, ErrUnknownCommand
		}
		return RPC3{}, ErrNotRPC
	}
	if len(p) < 6 {
		return RPC3{}, ErrShort
	}
	target := binary.LittleEndian.Uint32(p[1:])
	nameEnd := 5
	for nameEnd < len(p) && p[nameEnd] != 0 {
		nameEnd++
	}
	if nameEnd == len(p) {
		return RPC3{}, at(5, ErrCString)
	}
	if !validUTF8(p[5:nameEnd]) {
		return RPC3{}, at(5, ErrUTF8)
	}
	r.Method = string(p[5:nameEnd])
	pos := nameEnd + 1
	end, path, err := splitPath(p, pos, target)
	if err != nil {
		return RPC3{}, err
	}
	r.Path = path
	if path == "" {
		r.NodeID = target
	}
	argc := 1
	if !r.Set {
		if pos >= end {
			return RPC3{}, at(pos, ErrShort)
		}
		argc = int(p[pos])
		pos++
	}
	if r.Args, pos, err = parseArgs(p[:end], pos, argc, false); err != nil {
		return RPC3{}, err
	}
	if pos != end {
		return RPC3{}, at(pos, ErrTrailing)
	}
	return r, nil
}

// splitPath handles a node target with the path flag: the arguments end at
// the path's offset, which must not precede them, and the path is a
// NUL-terminated string filling the rest of p.
func splitPath(p []byte, argStart int, target uint32) (end int, path string, err error) {
	if target&pathFlag == 0 {
		return len(p), "", nil
	}
	ofs := int(target &^ pathFlag)
	if ofs < argStart || ofs >= len(p) {
		return 0, "", at(1, ErrPathOffset)
	}
	path, err = parseCStringToEnd(p[ofs:])
	if err != nil {
		return 0, "", at(ofs, err)
	}
	if path == "" {
		return 0, "", at(ofs, ErrPathOffset)
	}
	return ofs, path, nil
}

// parseArgs decodes argc variants from p[pos:] (Godot 4 compressed form if
// compressed is set).
func parseArgs(p []byte, pos, argc int, compressed bool) ([]any, int, error) {
	if argc == 0 {
		return nil, pos, nil
	}
	if argc > len(p)-pos { // every argument takes at least one byte
		return nil, 0, at(pos, ErrShort)
	}
	args := make([]any, argc)
	var err error
	for i := range args {
		if compressed {
			args[i], pos, err = parseCompressed4(p, pos)
		} else {
			args[i], pos, err = parseVariant(p, pos, V3, &ids3, 0)
		}
		if err != nil {
			return nil, 0, err
		}
	}
	return args, pos, nil
}

// Godot 4 RPC meta byte (modules/multiplayer/scene_rpc_interface.cpp): bits
// 0-3 the command, 4-5 node id compression, 6 name id compression, 7
// "byte only or no args".
const (
	nodeIDShift   = 4
	nameIDShift   = 6
	byteOnlyFlag  = 1 << 7
	nodeID8       = 0
	nodeID16      = 1
	nodeID32      = 2
	nameID8       = 0
	nameID16      = 1
	compTypeMask  = 0x3F
	compModeShift = 6
)

// RPC4 is a Godot 4 remote call (SceneRPCInterface::_send_rpc):
//
//	[meta][node id: 1, 2 or 4 bytes][method id: 1 or 2 bytes]
//	  [u8 argc][argc compressed variants]  or, with the byte-only flag,
//	  nothing (no arguments) or the raw bytes of a single PackedByteArray
//	  [path\0] only when node = 0x80000000|offset-of-path (4-byte form)
//
// Method ids are the index of the method in the node's RPC configuration,
// sorted by name, with bit 15 set for methods configured on the node rather
// than its script.
type RPC4 struct {
	NodeID   uint32 // path-cache id; used when Path is ""
	Path     string // node path relative to the multiplayer root, sent in full
	MethodID uint16
	Args     []any
}

// AppendRPC4 appends r as a Godot 4 remote-call payload, compressing ids and
// arguments as Godot does (encode_and_compress_variants). Errors are those of
// [AppendRPC3].
func AppendRPC4(b []byte, r RPC4) ([]byte, error) {
	if !validCString(r.Path) {
		return b, ErrCString
	}
	if r.Path == "" && r.NodeID&pathFlag != 0 {
		return b, ErrPathOffset
	}
	if len(r.Args) > 255 {
		return b, ErrTooManyArgs
	}
	start := len(b)
	out := append(b, 0) // meta, set at the end
	var meta byte = Cmd4RemoteCall
	switch {
	case r.Path != "" || r.NodeID > math.MaxUint16:
		meta |= nodeID32 << nodeIDShift
		out = binary.LittleEndian.AppendUint32(out, r.NodeID)
	case r.NodeID > math.MaxUint8:
		meta |= nodeID16 << nodeIDShift
		out = binary.LittleEndian.AppendUint16(out, uint16(r.NodeID))
	default:
		meta |= nodeID8 << nodeIDShift
		out = append(out, byte(r.NodeID))
	}
	if r.MethodID > math.MaxUint8 {
		meta |= nameID16 << nameIDShift
		out = binary.LittleEndian.AppendUint16(out, r.MethodID)
	} else {
		out = append(out, byte(r.MethodID))
	}
	raw, isRaw := []byte(nil), len(r.Args) == 0
	if len(r.Args) == 1 {
		raw, isRaw = r.Args[0].([]byte)
	}
	if isRaw {
		meta |= byteOnlyFlag
		out = append(out, raw...)
	} else {
		out = append(out, byte(len(r.Args)))
		var err error
		for _, a := range r.Args {
			if out, err = appendCompressed4(out, a); err != nil {
				return b, err
			}
		}
	}
	out[start] = meta
	if r.Path != "" {
		binary.LittleEndian.PutUint32(out[start+1:], pathFlag|uint32(len(out)-start))
		out = appendCString(out, r.Path)
	}
	return out, nil
}

// ParseRPC4 parses a Godot 4 remote-call payload (SceneRPCInterface::process_rpc,
// _process_rpc, MultiplayerAPI::decode_and_decompress_variants) with the
// same extra strictness as [ParseRPC3]. A byte-only call with bytes yields
// one []byte argument; without, no arguments.
func ParseRPC4(p []byte) (RPC4, error) {
	if len(p) < 1 {
		return RPC4{}, ErrShort
	}
	if p[0]&Cmd4Mask != Cmd4RemoteCall {
		return RPC4{}, ErrNotRPC
	}
	meta := p[0]
	if meta&0x08 != 0 { // bit 3 belongs to no field
		return RPC4{}, ErrRPCMeta
	}
	var r RPC4
	pos := 1
	var target uint32
	switch (meta >> nodeIDShift) & 3 {
	case nodeID8:
		if len(p) < pos+1 {
			return RPC4{}, ErrShort
		}
		target = uint32(p[pos])
		pos++
	case nodeID16:
		if len(p) < pos+2 {
			return RPC4{}, ErrShort
		}
		target = uint32(binary.LittleEndian.Uint16(p[pos:]))
		pos += 2
	case nodeID32:
		if len(p) < pos+4 {
			return RPC4{}, ErrShort
		}
		target = binary.LittleEndian.Uint32(p[pos:])
		pos += 4
	default:
		return RPC4{}, ErrRPCMeta
	}
	if (meta>>nameIDShift)&1 == nameID16 {
		if len(p) < pos+2 {
			return RPC4{}, ErrShort
		}
		r.MethodID = binary.LittleEndian.Uint16(p[pos:])
		pos += 2
	} else {
		if len(p) < pos+1 {
			return RPC4{}, ErrShort
		}
		r.MethodID = uint16(p[pos])
		pos++
	}
	end, path, err := splitPath(p, pos, target)
	if err != nil {
		return RPC4{}, err
	}
	r.Path = path
	if path == "" {
		r.NodeID = target
	}
	if meta&byteOnlyFlag != 0 {
		if pos < end {
			r.Args = []any{append([]byte{}, p[pos:end]...)}
		}
		return r, nil
	}
	if pos >= end {
		return RPC4{}, at(pos, ErrShort)
	}
	argc := int(p[pos])
	pos++
	if r.Args, pos, err = parseArgs(p[:end], pos, argc, true); err != nil {
		return RPC4{}, err
	}
	if pos != end {
		return RPC4{}, at(pos, ErrTrailing)
	}
	return r, nil
}

// appendCompressed4 is MultiplayerAPI::encode_and_compress_variant: a bool is
// one byte (type | 0x80 if true); an int is a byte (type | size mode << 6)
// and the value in 1, 2, 4 or 8 bytes; everything else is encode_variant,
// whose first byte already is the type.
func appendCompressed4(b []byte, x any) ([]byte, error) {
	var i int64
	switch x := x.(type) {
	case bool:
		if x {
			return append(b, byte(ids4.bool)|0x80), nil
		}
		return append(b, byte(ids4.bool)), nil
	case int:
		i = int64(x)
	case int32:
		i = int64(x)
	case int64:
		i = x
	default:
		return appendVariant(b, V4, &ids4, x, 0)
	}
	t := byte(ids4.int)
	switch {
	case i >= math.MinInt8 && i <= math.MaxInt8:
		return append(b, t|0<<compModeShift, byte(i)), nil
	case i >= math.MinInt16 && i <= math.MaxInt16:
		return binary.LittleEndian.AppendUint16(append(b, t|1<<compModeShift), uint16(i)), nil
	case i >= math.MinInt32 && i <= math.MaxInt32:
		return binary.LittleEndian.AppendUint32(append(b, t|2<<compModeShift), uint32(i)), nil
	}
	return binary.LittleEndian.AppendUint64(append(b, t|3<<compModeShift), uint64(i)), nil
}

// parseCompressed4 is MultiplayerAPI::decode_and_decompress_variant.
func parseCompressed4(b []byte, p int) (any, int, error) {
	if err := need(b, p, 1); err != nil {
		return nil, 0, err
	}
	switch uint32(b[p] & compTypeMask) {
	case ids4.bool:
		return b[p]&0x80 != 0, p + 1, nil
	case ids4.int:
		mode := b[p] >> compModeShift
		p++
		n := 1 << mode // 1, 2, 4, 8 bytes
		if err := need(b, p, n); err != nil {
			return nil, 0, err
		}
		switch mode {
		case 0:
			return int64(int8(b[p])), p + 1, nil
		case 1:
			return int64(int16(binary.LittleEndian.Uint16(b[p:]))), p + 2, nil
		case 2:
			return int64(int32(binary.LittleEndian.Uint32(b[p:]))), p + 4, nil
		}
		return int64(binary.LittleEndian.Uint64(b[p:])), p + 8, nil
	}
	return parseVariant(b, p, V4, &ids4, 0)
}
