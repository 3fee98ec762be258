package godottest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/clients/godot/godottest"
	"github.com/shardsim/shardsim/net/godot"
)

// newProject writes a throwaway Godot 3 project with the given files.
func newProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["project.godot"] = "config_version=4\n\n[application]\n\nconfig/name=\"godottest\"\n"
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// hexDecodeGD decodes hex in GDScript 3.2, which has no String.hex_decode.
const hexDecodeGD = `
func hexdec(s: String) -> PoolByteArray:
	var out := PoolByteArray()
	for i in range(0, s.length(), 2):
		out.append(("0x" + s.substr(i, 2)).hex_to_int())
	return out
`

// TestVariantsMatchGodot compares net/godot's variant encoding with the real
// engine's var2bytes for every supported type, and has the engine decode
// (bytes2var) and re-encode what Go produced.
func TestVariantsMatchGodot(t *testing.T) {
	godottest.Find(t)
	cases := []struct {
		gd   string
		want any
	}{
		{"null", nil},
		{"true", true},
		{"false", false},
		{"7", int64(7)},
		{"-1", int64(-1)},
		{"2147483647", int64(math.MaxInt32)},
		{"-2147483648", int64(math.MinInt32)},
		{"2147483648", int64(math.MaxInt32) + 1},
		{"-2147483649", int64(math.MinInt32) - 1},
		{"9223372036854775807", int64(math.MaxInt64)},
		{"0.5", 0.5},
		{"-2.25", -2.25},
		{"0.1", 0.1},
		{"1e300", 1e300},
		{`""`, ""},
		{`"hi"`, "hi"},
		{`"abcd"`, "abcd"},
		{`"héllo, 世界"`, "héllo, 世界"},
		{"Vector2(1, 2)", godot.Vector2{X: 1, Y: 2}},
		{"Vector2(-0.5, 3e38)", godot.Vector2{X: -0.5, Y: 3e38}},
		{"Vector3(1.5, -2, 3)", godot.Vector3{X: 1.5, Y: -2, Z: 3}},
		{"PoolByteArray()", []byte{}},
		{"PoolByteArray([1, 2, 3])", []byte{1, 2, 3}},
		{"PoolByteArray([1, 2, 3, 4, 5])", []byte{1, 2, 3, 4, 5}},
		{"[]", godot.Array{}},
		{`[1, "a", null, 0.5]`, godot.Array{int64(1), "a", nil, 0.5}},
		{"{}", godot.Dictionary{}},
		{`{"k": true, 2: [1.5], "v": Vector2(0, 1)}`, godot.Dictionary{{Key: "k", Value: true}, {Key: int64(2), Value: godot.Array{1.5}}, {Key: "v", Value: godot.Vector2{X: 0, Y: 1}}}},
		{`[{"a": [PoolByteArray([9]), Vector3()]}, 1099511627776]`, godot.Array{godot.Dictionary{{Key: "a", Value: godot.Array{[]byte{9}, godot.Vector3{}}}}, int64(1) << 40}},
	}
	var script strings.Builder
	script.WriteString("extends SceneTree\n" + hexDecodeGD + "\nfunc _initialize():\n")
	goHex := make([]string, len(cases))
	for i, c := range cases {
		b, err := godot.AppendVariant(nil, godot.V3, c.want)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		goHex[i] = hex.EncodeToString(b)
		fmt.Fprintf(&script, "\tprint(\"VAR %d \", var2bytes(%s).hex_encode())\n", i, c.gd)
		fmt.Fprintf(&script, "\tprint(\"BACK %d \", var2bytes(bytes2var(hexdec(%q))).hex_encode())\n", i, goHex[i])
	}
	script.WriteString("\tprint(\"DONE\")\n\tquit(0)\n")
	dir := newProject(t, map[string]string{"variants.gd": script.String()})

	out, err := godottest.Run(ctx(t, 60*time.Second), t, dir, "-s", "res://variants.gd", "--")
	if err != nil || !strings.Contains(out, "DONE") {
		t.Fatalf("godot: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, kind := range []string{"VAR", "BACK"} {
		for _, l := range godottest.Lines(out, kind) {
			i, h, _ := strings.Cut(l, " ")
			got[kind+i] = h
		}
	}
	for i, c := range cases {
		id := fmt.Sprint(i)
		if got["VAR"+id] != goHex[i] {
			t.Errorf("%s: Godot var2bytes = %s, Go = %s", c.gd, got["VAR"+id], goHex[i])
		}
		if got["BACK"+id] != goHex[i] {
			t.Errorf("%s: Godot bytes2var+var2bytes of Go's bytes = %s, want %s", c.gd, got["BACK"+id], goHex[i])
		}
		// And Go decodes Godot's bytes to the same value.
		b, _ := hex.DecodeString(got["VAR"+id])
		x, n, err := godot.ParseVariant(b, godot.V3)
		if err != nil || n != len(b) || !cmp.Equal(x, c.want) {
			t.Errorf("%s: Go decodes Godot's bytes as %#v, %d, %v", c.gd, x, n, err)
		}
	}
}

// zstdCases builds packets in the client's snapshot layout, `u32 LE size` +
// zstd frame(s), with klauspost/compress/zstd; want holds the sha256 of each
// decompressed payload.
func zstdCases(t *testing.T) (packets [][]byte, sizes []int, want []string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	text := bytes.Repeat([]byte("shardsim snapshot "), 40)
	noise := make([]byte, 100_000)
	for i := range noise {
		noise[i] = byte(rng.IntN(16)) // compressible but not trivial
	}
	enc := func(level zstd.EncoderLevel, p []byte) []byte {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		return e.EncodeAll(p, nil)
	}
	add := func(plain []byte, frames ...[]byte) {
		p := binary.LittleEndian.AppendUint32(nil, uint32(len(plain)))
		for _, f := range frames {
			p = append(p, f...)
		}
		sum := sha256.Sum256(plain)
		packets, sizes, want = append(packets, p), append(sizes, len(plain)), append(want, hex.EncodeToString(sum[:]))
	}
	add(text, enc(zstd.SpeedDefault, text))
	add(noise, enc(zstd.SpeedFastest, noise))
	add(noise[:5000], enc(zstd.SpeedBestCompression, noise[:5000]))
	// Two concatenated frames decode as their concatenation.
	a, b := text[:300], noise[:700]
	add(append(append([]byte{}, a...), b...), enc(zstd.SpeedDefault, a), enc(zstd.SpeedFastest, b))
	return packets, sizes, want
}

// TestZstdDecodedByGodot has the real engine decompress Go's zstd frames
// with PoolByteArray.decompress(size, File.COMPRESSION_ZSTD), through the
// client's own unzstd function.
func TestZstdDecodedByGodot(t *testing.T) {
	godottest.Find(t)
	packets, sizes, want := zstdCases(t)
	files := map[string]string{}
	var script strings.Builder
	script.WriteString(`extends SceneTree
func _initialize():
	var client = load("res://client.gd")
	for i in range(` + fmt.Sprint(len(packets)) + `):
		var f := File.new()
		if f.open("res://case%d.bin" % i, File.READ) != OK:
			print("OPEN_ERROR %d" % i)
			continue
		var data := f.get_buffer(f.get_len())
		f.close()
		print("CASE %d %s" % [i, client.unzstd(data)])
	print("DONE")
	quit(0)
`)
	files["zstd.gd"] = script.String()
	for i, p := range packets {
		files[fmt.Sprintf("case%d.bin", i)] = string(p)
	}
	dir := newProject(t, files)
	client := godottest.ClientDir(t)
	copyFile(t, filepath.Join(client, "client.gd"), filepath.Join(dir, "client.gd"))
	copyFile(t, filepath.Join(client, "protocol.gd"), filepath.Join(dir, "protocol.gd"))

	out, err := godottest.Run(ctx(t, 60*time.Second), t, dir, "-s", "res://zstd.gd", "--")
	if err != nil || !strings.Contains(out, "DONE") {
		t.Fatalf("godot: %v\n%s", err, out)
	}
	lines := godottest.Lines(out, "CASE")
	if len(lines) != len(packets) {
		t.Fatalf("got %d CASE lines, want %d:\n%s", len(lines), len(packets), out)
	}
	for i, l := range lines {
		if wantLine := fmt.Sprintf("%d ZSTD %d %s", i, sizes[i], want[i]); l != wantLine {
			t.Errorf("case %d: Godot printed %q, want %q", i, l, wantLine)
		}
	}
}

// freeUDPPort asks the kernel for a free UDP port on loopback.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// serverGD is a stock Godot 3 ENet server standing in for ours: it prints the
// token it receives and answers with the packets in packetN.bin, in order.
const serverGD = `extends SceneTree
var n := 0
var left := 5.0
func _initialize():
	var port := 0
	for a in OS.get_cmdline_args():
		if a.begins_with("--port="):
			port = int(a.substr(7, a.length()))
		if a.begins_with("--packets="):
			n = int(a.substr(10, a.length()))
	var peer := NetworkedMultiplayerENet.new()
	if peer.create_server(port, 4) != OK:
		print("SERVER_ERROR create_server")
		quit(1)
		return
	network_peer = peer
	multiplayer.connect("network_peer_packet", self, "_on_packet")
	multiplayer.connect("network_peer_disconnected", self, "_on_gone")
	print("LISTENING %d" % port)
func _on_packet(id: int, data: PoolByteArray):
	print("TOKEN %d %s" % [id, data.get_string_from_utf8()])
	for i in range(n):
		var f := File.new()
		f.open("res://packet%d.bin" % i, File.READ)
		var mode = NetworkedMultiplayerPeer.TRANSFER_MODE_RELIABLE
		multiplayer.send_bytes(f.get_buffer(f.get_len()), id, mode)
		f.close()
func _on_gone(id: int):
	print("GONE %d" % id)
	quit(0)
func _idle(delta):
	left -= delta
	if left <= 0:
		print("SERVER_TIMEOUT")
		quit(1)
`

// TestClientAgainstGodotServer runs the client project against a stock
// Godot 3 server: the token goes up as raw bytes, raw packets (plain and
// u32 size + zstd made in Go) come down and are reported line by line.
func TestClientAgainstGodotServer(t *testing.T) {
	godottest.Find(t)
	zpackets, sizes, want := zstdCases(t)
	packets := append([][]byte{[]byte("hello"), {0, 1, 2}}, zpackets...)
	files := map[string]string{"server.gd": serverGD}
	for i, p := range packets {
		files[fmt.Sprintf("packet%d.bin", i)] = string(p)
	}
	serverDir := newProject(t, files)
	port := freeUDPPort(t)

	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := godottest.Run(ctx(t, 30*time.Second), t, serverDir, "-s", "res://server.gd", "--",
			fmt.Sprintf("--port=%d", port), fmt.Sprintf("--packets=%d", len(packets)))
		done <- result{out, err}
	}()
	time.Sleep(500 * time.Millisecond) // let the server bind; ENet retries the connect anyway

	out, err := godottest.Run(ctx(t, 30*time.Second), t, godottest.ClientDir(t),
		"--host=127.0.0.1", fmt.Sprintf("--port=%d", port), "--token=tok-123",
		fmt.Sprintf("--packets=%d", len(packets)), "--timeout=10", "--dump=1")
	server := <-done
	if err != nil {
		t.Fatalf("client: %v\n%s\nserver:\n%s", err, out, server.out)
	}
	if server.err != nil {
		t.Errorf("server: %v\n%s", server.err, server.out)
	}
	if tok := godottest.Lines(server.out, "TOKEN"); len(tok) != 1 || !strings.HasSuffix(tok[0], " tok-123") {
		t.Errorf("server got tokens %q, want one \"<id> tok-123\"", tok)
	}
	if c := godottest.Lines(out, "CONNECTED"); len(c) != 1 {
		t.Errorf("CONNECTED lines %q", c)
	}
	var wantPackets []string
	for _, p := range packets {
		wantPackets = append(wantPackets, fmt.Sprintf("%d %s", len(p), hex.EncodeToString(p[:min(16, len(p))])))
	}
	if diff := cmp.Diff(wantPackets, godottest.Lines(out, "PACKET")); diff != "" {
		t.Errorf("PACKET lines (-want +got):\n%s", diff)
	}
	var wantZ []string
	for i := range zpackets {
		wantZ = append(wantZ, fmt.Sprintf("%d %s", sizes[i], want[i]))
	}
	if diff := cmp.Diff(wantZ, godottest.Lines(out, "ZSTD")); diff != "" {
		t.Errorf("ZSTD lines (-want +got):\n%s", diff)
	}
	if s := godottest.Lines(out, "SUMMARY"); len(s) != 1 || s[0] != fmt.Sprintf("connected=true packets=%d snapshots=0 matched=0 mismatched=0 entities=0", len(packets)) {
		t.Errorf("SUMMARY lines %q", s)
	}
}

// TestClientTimesOut checks the client's failure path: nobody listens.
func TestClientTimesOut(t *testing.T) {
	godottest.Find(t)
	out, err := godottest.Run(ctx(t, 30*time.Second), t, godottest.ClientDir(t),
		"--host=127.0.0.1", fmt.Sprintf("--port=%d", freeUDPPort(t)), "--token=x", "--packets=1", "--timeout=1")
	if err == nil {
		t.Fatalf("client exited 0 without a server:\n%s", out)
	}
	if s := godottest.Lines(out, "SUMMARY"); len(s) != 1 || s[0] != "connected=false packets=0 snapshots=0 matched=0 mismatched=0 entities=0" {
		t.Errorf("SUMMARY lines %q\n%s", s, out)
	}
}

func TestLines(t *testing.T) {
	out := "Godot Engine v3\nPACKET 3 aabbcc\r\nERROR: x\nPACKETS 1\nPACKET 1 00\n"
	if got := godottest.Lines(out, "PACKET"); !cmp.Equal(got, []string{"3 aabbcc", "1 00"}) {
		t.Errorf("Lines = %q", got)
	}
}
