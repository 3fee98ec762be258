# shardsim headless test client for Godot 3.2 (stock NetworkedMultiplayerENet).
#
#   godot3-server --path clients/godot -- --host=127.0.0.1 --port=7777 --token=TOKEN \
#       [--snapshots=N] [--packets=N] [--timeout=SECONDS] [--dump=1] [--fps=N]
#       [--upload=PATH] [--fetch=1] [--canvases=N] [--protocol=4|5]
#
# --protocol=5 asks for cell streams (protocol version 5): the first packet is a
# Hello message (version 5 and the token) instead of the bare token, and the
# server sends cell snapshots (0x1C), decoded per cell (CSNAP lines). The
# default, 4, sends the bare token and gets per-client delta snapshots.
#
# --upload=PATH uploads the PNG/JPEG file after the Welcome (chunks of 1 KiB on
# the reliable channel, a 64 KiB window over the server's acks) and quits when
# the server answers: status 0 after UPLOAD_DONE, 5 after UPLOAD_ERROR.
# --fetch=1 fetches the bytes of every canvas learnt; --canvases=N quits
# (status 0) once N canvases were learnt (with --fetch=1: fetched).
#
# Connects, sends the token as raw bytes (multiplayer.send_bytes, reliable) on
# connected_to_server, then speaks the game protocol (protocol.gd): decodes
# every server message, sends an Input message (acks + inputs) every server
# tick, and quits after N decoded snapshots or N packets (0 = until the timeout).
#
# Output, one line each (parsed by tests; keep stable):
#   CONNECTING <host>:<port>
#   CONNECTED <unique id>
#   FAILED                      connection_failed
#   DISCONNECTED                server_disconnected
#   WELCOME <netid> <tick> <rate>
#   KICK <code> <text>          the server closed the session (then exit 3)
#   NOTICE <code> <text>        a non-fatal Error message
#   SNAP <id> <base> <tick> <entities> <hash hex> <match|MISMATCH>
#   CSNAP <id> <tick> <blocks> <deltas> <entities> <hash hex> <match|MISMATCH>
#                               a cell snapshot decoded (--protocol=5): cells
#                               carried, those coded against a held copy, their
#                               entities and table hash
#   SNAP_DROP <id> <reason>     a snapshot not applied (e.g. baseline not held)
#   UNKNOWN <type hex> <len>    a message of unknown type
#   UPLOAD_RESUME <offset>      the server continues an earlier upload from there
#   UPLOAD_DONE <hash hex> <canvas id>
#   UPLOAD_ERROR <code> <text>
#   CANVAS <id> <owner> <hash hex> <w> <h>     a canvas learnt (CanvasInfo)
#   ART <hash hex> <sha256 hex of the bytes received>
#   FETCH_ERROR <hash hex> <code> <text>
#   with --dump=1, per packet before the lines above:
#   PACKET <len> <first 16 bytes hex>
#   ZSTD <size> <sha256 hex of decompressed>     for `u32 LE size + zstd frame(s)` packets
#   ZSTD_ERROR <size> <decompressed len>          decompression failed or size mismatch
#   TIMEOUT
#   SUMMARY connected=<bool> packets=<n> snapshots=<n> matched=<n> mismatched=<n> entities=<n>
# Exit code: 0 if connected and the goal (N snapshots, N packets, or with
# neither the timeout) was reached with no hash mismatch; 1 on timeout before
# the goal, failure or disconnect; 2 on bad arguments; 3 when kicked; 4 when
# the goal was reached but some snapshot's hash did not match.
#
# Godot 3.2 does not stop parsing engine options at "--": pass options as
# --key=value so they cannot collide with engine flags such as --path.
extends Node

const Protocol = preload("res://protocol.gd")

var host := "127.0.0.1"
var port := 0
var token := ""
var want_packets := 0
var want_snapshots := 0
var timeout := 10.0
var dump := false
var fetch := false
var fps := 120
var upload_path := ""
var want_canvases := 0
var proto_version := 4

var protocol
var connected := false
var packets := 0
var elapsed := 0.0
var finished := false


func _ready() -> void:
	if not parse_args(OS.get_cmdline_args()):
		finish(2)
		return
	protocol = Protocol.new()
	protocol.fetch_art = fetch
	protocol.version = proto_version
	# Headless Godot otherwise spins a core; ENet is polled once per frame.
	Engine.target_fps = fps
	var peer := NetworkedMultiplayerENet.new()
	print("CONNECTING %s:%d" % [host, port])
	var err := peer.create_client(host, port)
	if err != OK:
		print("ERROR create_client %d" % err)
		finish(1)
		return
	get_tree().network_peer = peer
	var mp := get_tree().multiplayer
	mp.connect("connected_to_server", self, "_on_connected")
	mp.connect("connection_failed", self, "_on_failed")
	mp.connect("server_disconnected", self, "_on_disconnected")
	mp.connect("network_peer_packet", self, "_on_packet")


# parse_args reads --key=value options after the "--" separator.
func parse_args(args: PoolStringArray) -> bool:
	var user := false
	for a in args:
		if a == "--":
			user = true
			continue
		if not user or not a.begins_with("--") or a.find("=") < 0:
			continue
		var key: String = a.substr(2, a.find("=") - 2)
		var val: String = a.substr(a.find("=") + 1, a.length())
		match key:
			"host":
				host = val
			"port":
				port = int(val)
			"token":
				token = val
			"packets":
				want_packets = int(val)
			"timeout":
				timeout = float(val)
			"snapshots":
				want_snapshots = int(val)
			"dump":
				dump = val == "1" or val == "true"
			"fps":
				fps = int(val)
			"upload":
				upload_path = val
			"fetch":
				fetch = val == "1" or val == "true"
			"canvases":
				want_canvases = int(val)
			"protocol":
				if val != "4" and val != "5":
					print("ERROR --protocol=4 or 5")
					return false
				proto_version = int(val)
			_:
				print("ERROR unknown option --%s" % key)
				return false
	if port <= 0 or port > 65535:
		print("ERROR --port=1..65535 is required")
		return false
	return true


func _on_connected() -> void:
	connected = true
	print("CONNECTED %d" % get_tree().get_network_unique_id())
	var hello: PoolByteArray = protocol.hello(token)
	if hello.size() > 0:
		get_tree().multiplayer.send_bytes(hello, 1, NetworkedMultiplayerPeer.TRANSFER_MODE_RELIABLE)


func _on_failed() -> void:
	print("FAILED")
	finish(1)


func _on_disconnected() -> void:
	print("DISCONNECTED")
	finish(1)


func _on_packet(_id: int, data: PoolByteArray) -> void:
	if finished:
		return
	packets += 1
	if dump:
		print("PACKET %d %s" % [data.size(), hex_prefix(data, 16)])
		var z := unzstd(data)
		if z != "":
			print(z)
	var was_welcomed: bool = protocol.welcomed
	for line in protocol.on_packet(data):
		print(line)
	if protocol.welcomed and not was_welcomed and upload_path != "":
		var f := File.new()
		if f.open(upload_path, File.READ) != OK:
			print("UPLOAD_ERROR 0 cannot read %s" % upload_path)
			finish(5)
			return
		protocol.start_upload(f.get_buffer(f.get_len()))
		f.close()
	if protocol.kicked:
		finish(3)
	elif upload_path != "" and protocol.upload_result != 0:
		finish(0 if protocol.upload_result == 1 else 5)
	elif want_canvases > 0 and fetch and protocol.arts >= want_canvases:
		finish(0)
	elif want_canvases > 0 and not fetch and protocol.canvases.size() >= want_canvases:
		finish(0)
	elif want_packets > 0 and packets >= want_packets:
		finish(goal_code())
	elif want_snapshots > 0 and protocol.snapshots >= want_snapshots:
		finish(goal_code())


func goal_code() -> int:
	return 0 if protocol.mismatched == 0 else 4


func _process(delta: float) -> void:
	if finished:
		return
	if connected:
		var mp := get_tree().multiplayer
		for msg in protocol.take_reliable():
			mp.send_bytes(msg, 1, NetworkedMultiplayerPeer.TRANSFER_MODE_RELIABLE)
		for msg in protocol.poll(delta):
			mp.send_bytes(msg, 1, NetworkedMultiplayerPeer.TRANSFER_MODE_UNRELIABLE)
	elapsed += delta
	if elapsed >= timeout:
		if want_packets > 0 or want_snapshots > 0 or want_canvases > 0 or upload_path != "" or not connected:
			print("TIMEOUT")
			finish(1)
		else:
			finish(goal_code())


func finish(code: int) -> void:
	if finished:
		return
	finished = true
	var snaps := 0
	var ok := 0
	var bad := 0
	var ents := 0
	if protocol != null:
		snaps = protocol.snapshots
		ok = protocol.matched
		bad = protocol.mismatched
		ents = protocol.entities()
	print("SUMMARY connected=%s packets=%d snapshots=%d matched=%d mismatched=%d entities=%d" % [
		"true" if connected else "false", packets, snaps, ok, bad, ents])
	if get_tree().network_peer != null:
		get_tree().network_peer.close_connection()
		get_tree().network_peer = null
	get_tree().quit(code)


static func hex_prefix(data: PoolByteArray, n: int) -> String:
	if data.size() <= n:
		return data.hex_encode()
	return data.subarray(0, n - 1).hex_encode()


# unzstd recognises `u32 little-endian uncompressed size + zstd frame(s)` and
# returns the ZSTD line, or "" for other packets.
static func unzstd(data: PoolByteArray) -> String:
	if data.size() < 8 or data[4] != 0x28 or data[5] != 0xB5 or data[6] != 0x2F or data[7] != 0xFD:
		return ""
	var size: int = data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)
	if size <= 0:
		return "ZSTD_ERROR %d 0" % size
	var out: PoolByteArray = data.subarray(4, data.size() - 1).decompress(size, File.COMPRESSION_ZSTD)
	if out.size() != size:
		return "ZSTD_ERROR %d %d" % [size, out.size()]
	return "ZSTD %d %s" % [size, sha256_hex(out)]


static func sha256_hex(data: PoolByteArray) -> String:
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA256)
	ctx.update(data)
	return ctx.finish().hex_encode()
