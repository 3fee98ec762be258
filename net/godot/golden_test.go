package godot

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"
)

// h decodes hex with spaces, for byte layouts written as Godot lays them out.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Golden variant encodings. Layouts from encode_variant in
// core/io/marshalls.cpp: u32 header (type | ENCODE_FLAG_64 = 1<<16), value,
// zero padding to 4 (_encode_string, POOL_BYTE_ARRAY). Type ids from
// core/variant.h (3.2) and core/variant/variant.h (4.x). The Godot 3 column
// is also checked against the real engine's var2bytes in
// clients/godot/godottest.
var goldenVariants = []struct {
	name   string
	x      any
	v3, v4 string
}{
	{"nil", nil, "00000000", "00000000"},
	{"false", false, "01000000 00000000", "01000000 00000000"},
	{"true", true, "01000000 01000000", "01000000 01000000"},
	{"int 7", int64(7), "02000000 07000000", "02000000 07000000"},
	{"int -1", int64(-1), "02000000 ffffffff", "02000000 ffffffff"},
	{"int max32", int64(math.MaxInt32), "02000000 ffffff7f", "02000000 ffffff7f"},
	{"int 2^31 (64-bit flag)", int64(1) << 31, "02000100 00000080 00000000", "02000100 00000080 00000000"},
	{"int min64", int64(math.MinInt64), "02000100 00000000 00000080", "02000100 00000000 00000080"},
	{"float 0.5 (fits float32)", 0.5, "03000000 0000003f", "03000000 0000003f"},
	{"float 0.1 (needs double)", 0.1, "03000100 9a9999999999b93f", "03000100 9a9999999999b93f"},
	{"string empty", "", "04000000 00000000", "04000000 00000000"},
	{"string hi (padded)", "hi", "04000000 02000000 68690000", "04000000 02000000 68690000"},
	{"string utf8", "é", "04000000 02000000 c3a90000", "04000000 02000000 c3a90000"},
	{"string 4 bytes (no pad)", "abcd", "04000000 04000000 61626364", "04000000 04000000 61626364"},
	{"vector2", Vector2{1, 2}, "05000000 0000803f 00000040", "05000000 0000803f 00000040"},
	{"vector3", Vector3{1, 2, 3}, "07000000 0000803f 00000040 00004040", "09000000 0000803f 00000040 00004040"},
	{"bytes empty", []byte{}, "14000000 00000000", "1d000000 00000000"},
	{"bytes 3 (padded)", []byte{1, 2, 3}, "14000000 03000000 01020300", "1d000000 03000000 01020300"},
	{"array", Array{int64(1), "a"},
		"13000000 02000000 02000000 01000000 04000000 01000000 61000000",
		"1c000000 02000000 02000000 01000000 04000000 01000000 61000000"},
	{"dictionary", Dictionary{{"k", true}},
		"12000000 01000000 04000000 01000000 6b000000 01000000 01000000",
		"1b000000 01000000 04000000 01000000 6b000000 01000000 01000000"},
}

func TestGoldenVariants(t *testing.T) {
	for _, tc := range goldenVariants {
		for _, vc := range []struct {
			v    Version
			want string
		}{{V3, tc.v3}, {V4, tc.v4}} {
			t.Run(vc.v.String()+"/"+tc.name, func(t *testing.T) {
				want := h(vc.want)
				got, err := AppendVariant(nil, vc.v, tc.x)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("AppendVariant = % x, want % x", got, want)
				}
				x, n, err := ParseVariant(want, vc.v)
				if err != nil || n != len(want) {
					t.Fatalf("ParseVariant = %v, %d, %v", x, n, err)
				}
				again, _ := AppendVariant(nil, vc.v, x)
				if !bytes.Equal(again, want) {
					t.Fatalf("re-encoded % x, want % x", again, want)
				}
			})
		}
	}
}

// Golden framing and command layouts.
func TestGoldenMessages(t *testing.T) {
	mustB := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		// NetworkedMultiplayerENet::put_packet: encode_uint32(unique_id), encode_uint32(target_peer), payload.
		{"frame3 server->broadcast", AppendFrame3(nil, 1, 0, []byte{4, 'a'}), "01000000 00000000 04 61"},
		{"frame3 client->all but 3", AppendFrame3(nil, 0x12345678, -3, nil), "78563412 fdffffff"},
		// NetworkedMultiplayerENet::poll, CONNECT: encode_uint32(SYSMSG_ADD_PEER), encode_uint32(id).
		{"sys3 add 5", AppendSys3(nil, PeerEvent{PeerAdded, 5}), "00000000 05000000"},
		{"sys3 remove 5", AppendSys3(nil, PeerEvent{PeerRemoved, 5}), "01000000 05000000"},
		// MultiplayerAPI::send_bytes: packet_cache[0] = NETWORK_COMMAND_RAW (4).
		{"raw3", AppendRaw3(nil, []byte("tok")), "04 746f6b"},
		{"codec3 raw", For(V3).AppendRaw(nil, 7, []byte{0xAA}), "01000000 07000000 04 aa"},
		// SceneMultiplayer::send_bytes: NETWORK_COMMAND_RAW (3); ENetMultiplayerPeer adds no header.
		{"raw4", AppendRaw4(nil, []byte("tok")), "03 746f6b"},
		{"codec4 raw", For(V4).AppendRaw(nil, 7, []byte{0xAA}), "03 aa"},
		// SceneMultiplayer::_admit_peer / _del_peer: [NETWORK_COMMAND_SYS, SYS_COMMAND_ADD_PEER, u32 id].
		{"sys4 add 5", AppendSys4(nil, Sys4{Sub: Sys4AddPeer, Peer: 5}), "07 01 05000000"},
		{"sys4 del 5", AppendSys4(nil, Sys4{Sub: Sys4DelPeer, Peer: 5}), "07 02 05000000"},
		// SceneMultiplayer::send_command: relay [SYS, RELAY, i32 to, packet].
		{"sys4 relay", AppendSys4(nil, Sys4{Sub: Sys4Relay, Peer: 0, Data: []byte{3, 'a'}}), "07 03 00000000 03 61"},
		// SceneMultiplayer::send_auth / complete_auth.
		{"sys4 auth", AppendSys4(nil, Sys4{Sub: Sys4Auth, Data: []byte{1}}), "07 00 01"},
		// MultiplayerAPI::_send_confirm_path: [SIMPLIFY_PATH][u32 id][path\0].
		{"simplify3", mustB(AppendSimplifyPath3(nil, 1, "Main")), "02 01000000 4d61696e00"},
		// MultiplayerAPI::_process_simplify_path reply: [CONFIRM_PATH][path\0].
		{"confirm3", mustB(AppendConfirmPath3(nil, "Main")), "03 4d61696e00"},
		// MultiplayerAPI::_send_rpc, cached path: [REMOTE_CALL][u32 id][name\0][argc][variants].
		{"rpc3 cached", mustB(AppendRPC3(nil, RPC3{NodeID: 1, Method: "f", Args: []any{int64(7)}})),
			"00 01000000 6600 01 02000000 07000000"},
		// ... unconfirmed path: id field = 0x80000000|ofs, path appended (ofs = 16 here).
		{"rpc3 full path", mustB(AppendRPC3(nil, RPC3{Path: "Main", Method: "f", Args: []any{int64(7)}})),
			"00 10000080 6600 01 02000000 07000000 4d61696e00"},
		// rset: [REMOTE_SET][u32 id][name\0][variant].
		{"rset3", mustB(AppendRPC3(nil, RPC3{Set: true, NodeID: 2, Method: "hp", Args: []any{int64(3)}})),
			"01 02000000 687000 02000000 03000000"},
		// SceneRPCInterface::_send_rpc: meta, 8-bit node id, 8-bit method id, argc, compressed variants
		// (MultiplayerAPI::encode_and_compress_variant: int 7 -> [INT | ENCODE_8<<6][7]).
		{"rpc4 small", mustB(AppendRPC4(nil, RPC4{NodeID: 1, MethodID: 0, Args: []any{int64(7)}})), "00 01 00 01 02 07"},
		{"rpc4 mixed", mustB(AppendRPC4(nil, RPC4{NodeID: 1, Args: []any{true, int64(300), "a"}})),
			"00 01 00 03 81 42 2c01 04000000 01000000 61000000"},
		{"rpc4 int32/int64", mustB(AppendRPC4(nil, RPC4{NodeID: 1, Args: []any{int64(1 << 20), int64(-1 << 40)}})),
			"00 01 00 02 82 00001000 c2 0000000000ffffff"},
		// 16-bit node id (NETWORK_NODE_ID_COMPRESSION_16 << 4) and method id (NAME_ID_16 << 6).
		{"rpc4 wide ids", mustB(AppendRPC4(nil, RPC4{NodeID: 300, MethodID: 0x8001, Args: []any{nil}})),
			"50 2c01 0180 01 00000000"},
		// byte_only_or_no_args (bit 7): no argc, raw bytes of the single PackedByteArray.
		{"rpc4 bytes", mustB(AppendRPC4(nil, RPC4{NodeID: 1, Args: []any{[]byte{9, 9}}})), "80 01 00 0909"},
		{"rpc4 no args", mustB(AppendRPC4(nil, RPC4{NodeID: 1})), "80 01 00"},
		// Not-yet-cached node: 32-bit id field 0x80000000|ofs and the path at the end.
		{"rpc4 full path", mustB(AppendRPC4(nil, RPC4{Path: "Main", MethodID: 2})), "a0 06000080 02 4d61696e00"},
	} {
		if want := h(tc.want); !bytes.Equal(tc.got, want) {
			t.Errorf("%s: got % x, want % x", tc.name, tc.got, want)
		}
	}
}
