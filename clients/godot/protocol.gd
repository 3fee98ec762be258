# === GAME PROTOCOL (to be defined) ==========================================
# The game protocol rides in raw packets (multiplayer.send_bytes /
# network_peer_packet) and is defined by the net/ package. This file is the
# only place the client knows it. Fill in:
#   - hello(token): the first packet after connecting (now: the token's UTF-8)
#   - on_packet(data): decode a server packet (snapshots: u32 size + zstd,
#     quantized, delta vs the newest acked snapshot); return extra output lines
#   - inputs and acks going up: add a poll(client) called from client.gd.
# ============================================================================
extends Reference


func hello(token: String) -> PoolByteArray:
	return token.to_utf8()


func on_packet(_data: PoolByteArray) -> Array:
	return []
