package godot_test

import (
	"errors"
	"fmt"

	"github.com/shardsim/shardsim/net/godot"
)

// A server receives a client's token (sent with multiplayer.send_bytes) and
// answers with raw bytes.
func ExampleCodec() {
	codec := godot.For(godot.V3)

	// What a Godot 3 client with id 1234 sends on the reliable channel.
	in := godot.AppendFrame3(nil, 1234, 0, godot.AppendRaw3(nil, []byte("secret")))
	token, err := codec.ParseRaw(codec.Channel(true), in, 1234)
	fmt.Printf("%s %v\n", token, err)

	// A forged source id is dropped.
	_, err = codec.ParseRaw(codec.Channel(true), in, 99)
	fmt.Println(errors.Is(err, godot.ErrSpoofedSource))

	out := codec.AppendRaw(nil, 1234, []byte("welcome"))
	fmt.Printf("% x\n", out)
	// Output:
	// secret <nil>
	// true
	// 01 00 00 00 d2 04 00 00 04 77 65 6c 63 6f 6d 65
}

// Godot 4 clients wrap broadcast sends in a relay message; Unframe removes it.
func ExampleCodec_Unframe() {
	codec := godot.For(godot.V4)
	in := []byte{7, 3, 0, 0, 0, 0, 3, 'h', 'i'} // send_bytes("hi".to_utf8_buffer())
	p, err := codec.Unframe(codec.Channel(true), in, 5)
	fmt.Println(p.Src, p.Dst, p.Relayed, p.Cmd == godot.Cmd4Raw, string(p.Payload[1:]), err)
	// Output: 5 0 true true hi <nil>
}

func ExampleAppendVariant() {
	b, _ := godot.AppendVariant(nil, godot.V3, godot.Array{int64(7), "hi", godot.Vector2{X: 1, Y: 2}})
	fmt.Printf("% x\n", b)
	x, n, err := godot.ParseVariant(b, godot.V3)
	fmt.Println(x, n, err)
	// Output:
	// 13 00 00 00 03 00 00 00 02 00 00 00 07 00 00 00 04 00 00 00 02 00 00 00 68 69 00 00 05 00 00 00 00 00 80 3f 00 00 00 40
	// [7 hi {1 2}] 40 <nil>
}

func ExampleParseRPC3() {
	// rpc_id(1, "move", Vector2(1, 2)) from a node whose path is not cached yet.
	b, _ := godot.AppendRPC3(nil, godot.RPC3{Path: "World/Player", Method: "move", Args: []any{godot.Vector2{X: 1, Y: 2}}})
	r, err := godot.ParseRPC3(b)
	fmt.Printf("%s %s %v %v\n", r.Path, r.Method, r.Args, err)
	// Output: World/Player move [{1 2}] <nil>
}

func ExampleParseRPC4() {
	b, _ := godot.AppendRPC4(nil, godot.RPC4{NodeID: 3, MethodID: 1, Args: []any{true, int64(300)}})
	fmt.Printf("% x\n", b)
	r, err := godot.ParseRPC4(b)
	fmt.Println(r.NodeID, r.MethodID, r.Args, err)
	// Output:
	// 00 03 01 02 81 42 2c 01
	// 3 1 [true 300] <nil>
}
