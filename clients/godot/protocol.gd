# === GAME PROTOCOL ===========================================================
# The client side of shardsim's game protocol (version 4), as specified in
# net/game/doc.go; the Go reference is net/game/decode.go (Decoder.Apply,
# Table.Hash) and net/game/msg.go. This file is the only place the client
# knows the protocol; client.gd only moves bytes and prints the lines it returns.
# With version = 5 it speaks cell streams instead (doc.go, "Cell streams";
# Go reference: net/game/celldecode.go, CellDecoder): see apply_cell_snapshot.
#
#   hello(token)      first packet after connecting: the token's UTF-8 text
#                     (version 4), or a Hello message asking for version 5
#   on_packet(data)   one server message -> output lines (WELCOME, KICK, SNAP...)
#   poll(delta)       -> Input messages (0x02) to send now, at the tick rate
#
# Snapshots are decoded against the baseline table they name, after merging
# into it the records of the snapshots they name in their merge bits; the last
# 32 tables are kept by snapshot id (slot id % 32), exactly as the Go Decoder.
# Entity values are kept in wire form (u16/u8; VX, VY as their u8 bytes), which
# is what the NQH1 state hash reads.
#
# Integers: GDScript ints are signed 64-bit and + - * wrap, so the hash is
# computed mod 2^64 directly; a logical right shift is (x >> n) & mask.
# ============================================================================
extends Reference

# Message types (net/game/msg.go).
const TYPE_HELLO = 0x01
const TYPE_INPUT = 0x02
const TYPE_WELCOME = 0x10
const TYPE_KICK = 0x11
const TYPE_ERROR = 0x12
const TYPE_SNAPSHOT = 0x13
# Art messages (net/game/art.go), all reliable.
const TYPE_UPLOAD_BEGIN = 0x03
const TYPE_UPLOAD_CHUNK = 0x04
const TYPE_FETCH_ART = 0x05
const TYPE_UPLOAD_ACK = 0x14
const TYPE_UPLOAD_DONE = 0x15
const TYPE_UPLOAD_ERROR = 0x16
const TYPE_CANVAS_INFO = 0x17
const TYPE_ART_CHUNK = 0x18
const TYPE_FETCH_ERROR = 0x19
const TYPE_SHADOW_LIST = 0x1A
const TYPE_CELL_SNAPSHOT = 0x1C # protocol version 5
const ART_CHUNK = 1024 # bytes per UploadChunk
const UPLOAD_WINDOW = 65536 # bytes sent beyond the newest UploadAck

const HEADER_SIZE = 33 # snapshot header: u8 type, u32 id, u32 base, u32 merge, u64 tick, u64 hash, u32 size
const MAX_PAYLOAD = 65536
const KEEP_TABLES = 32
const MAX_BASE_DISTANCE = 62 # 2 * KEEP_TABLES - 2: the baseline is kept beyond the slots (pinned)
const MAX_INPUTS = 8 # per Input message (protocol limit)
const SEND_INPUTS = 4 # inputs repeated in each Input message (redundancy)

# Payload columns in wire order (see decode_into), by entity field index:
#   group bit 0 pos: 0 X, 1 Y (i16 deltas mod 65536)   bit 2 vel: 3 VX, 4 VY
#   (i8)   bit 1 head: 2 Head (i8, minus the heading of the velocity: see
#   heading_of)   bit 3 anim: 6 State, 7 Clip (u16)
#   bit 4 time: 9 TimeRef (i16 delta)   bit 5 fade: 10 PrevClip (u16), 11 Fade
#   (u8)   bit 6 speed: 8 Speed (u16)   bit 7 new entity (start from zero):
#   5 Machine (u16), 12 Team (u8)
# COLUMNS: [group bit, kind] per column in wire order; kind 0 u8, 1 u16, 2 i8
# zigzag, 3 i16 zigzag (net/game/payload.go: columns).
const COLUMNS = [[0, 3], [0, 3], [2, 2], [2, 2], [1, 2], [3, 1], [3, 1], [4, 3], [5, 1], [5, 0], [6, 1], [7, 1], [7, 0]]
# atan(2^-i) in 1/65536 turns (net/game/heading.go: cordicAtan).
const MAX_PRED_AGE = 64 # net/game/payload.go: maxPredAge
# The masks most dictionaries hold, most frequent first (net/game/payload.go:
# commonMasks): a dictionary entry is its index in the order of all 256 masks that
# starts with these and goes on with the others ascending (mask_at).
const COMMON_MASKS = [0x01, 0x07, 0x1f, 0x3f, 0x1d, 0x17, 0x3d, 0x20, 0x05, 0x21, 0x27, 0x37, 0x18, 0x0f, 0x25, 0x38,
	0x10, 0x1b, 0x13, 0xdf, 0x08, 0x30, 0x2f, 0x0d, 0xc1, 0x3c, 0xd9, 0xff, 0x03, 0x33, 0x3b, 0x1c]
const CORDIC_ATAN = [8192, 4836, 2555, 1297, 651, 326, 163, 81, 41, 20, 10, 5, 3, 1]
const FLAG_NEW = 128
const F_HASH = 13 # index of the cached entity hash in an entity array
const F_SEEN = 14 # index of the id of the snapshot that wrote the entity's values
const ZERO_ENTITY = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

# NQH1 constants (net/game/quant.go), built from 32-bit halves.
const HASH_SEED = (0x243f6a88 << 32) | 0x85a308d3
const HASH_MUL = (0x9e3779b9 << 32) | 0x7f4a7c15
const FMIX_C1 = (0xff51afd7 << 32) | 0xed558ccd
const FMIX_C2 = (0xc4ceb9fe << 32) | 0x1a85ec53
const LSR31 = (1 << 33) - 1 # mask after >> 31
const LSR33 = (1 << 31) - 1 # mask after >> 33
const U32 = 0xffffffff


# Table is the client's entity table as of one snapshot.
class Table:
	var id := 0 # snapshot id
	var tick := 0
	var ents := {} # NetID -> Array [13 wire fields, cached entity hash, snapshot that wrote it]
	var sum := 0 # wrapping sum of the entity hashes
	var count := 0
	var written := PoolIntArray() # NetIDs the snapshot's own records wrote (what a merge takes)
	var pred_k := [0, 0] # the position prediction's scale of the snapshot (KX, KY)


# ---- cell streams (protocol version 5; net/game/cells.go, celldecode.go) ----
const CELL_PROTOCOL = 5
const HELLO_SIZE = 300 # a Hello is zero-padded to exactly this size
const MAX_TOKEN_LEN = 255
const CELL_HEADER_SIZE = 25 # u8 type, u32 id, u64 tick, u64 hash, u32 size
const CELL_COPIES = 32 # copies kept per cell
const MAX_CELLS = 16384
const CELL_PARAMS = 14 # Rice parameters of the parameter section: removed ids,
# record ids, mask ranks, then columns 0..10 (records that are not new)
const CELL_PARAMS_SIZE = 7


# CellCopy is the client's copy of one cell as of snapshot id.
# Records applies a payload's records in record order (net/game/payload.go:
# applyRecord): it holds the columns _read_columns returned, the cursor of each
# column list, the ages of the position records that are not new and the
# prediction's scale.
class Records:
	var outer: Reference # the protocol (its static functions)
	var cols: Array
	var ages: PoolIntArray
	var kx: int
	var ky: int
	var k := [0, 0, 0, 0, 0, 0, 0, 0] # per group: records applied; [7]: new records
	var kp := 0 # position records that are not new, applied

	func _init(o: Reference, c: Array, a: PoolIntArray, pred_kx: int, pred_ky: int) -> void:
		outer = o
		cols = c
		ages = a
		kx = pred_kx
		ky = pred_ky

	# new_entity returns the zero entity with the next new record's identity
	# (Machine, Team).
	func new_entity() -> Array:
		var e: Array = ZERO_ENTITY.duplicate()
		e[5] = cols[11][k[7]]
		e[12] = cols[12][k[7]]
		k[7] += 1
		return e

	# apply applies the next record, of mask m, to e (its baseline value, or a new
	# entity).
	func apply(e: Array, m: int) -> void:
		var bvx: int = e[3] # the baseline velocity (u8 bytes), for the position prediction
		var bvy: int = e[4]
		if m & 1: # pos: X, Y deltas mod 65536
			e[0] = (e[0] + cols[0][k[0]]) & 0xffff
			e[1] = (e[1] + cols[1][k[0]]) & 0xffff
			k[0] += 1
		if m & 4: # vel: VX, VY as u8
			e[3] = cols[2][k[2]]
			e[4] = cols[3][k[2]]
			k[2] += 1
		if m & 2: # head: the heading of the (new) velocity plus the value
			e[2] = (cols[4][k[1]] + outer.heading_of(e[3], e[4])) & 255
			k[1] += 1
		if m & 8: # anim: State, Clip
			e[6] = cols[5][k[3]]
			e[7] = cols[6][k[3]]
			k[3] += 1
		if m & 16: # time: TimeRef delta mod 65536
			e[9] = (e[9] + cols[7][k[4]]) & 0xffff
			k[4] += 1
		if m & 32: # fade: PrevClip, Fade
			e[10] = cols[8][k[5]]
			e[11] = cols[9][k[5]]
			k[5] += 1
		if m & 64: # speed
			e[8] = cols[10][k[6]]
			k[6] += 1
		if m & 1 and not m & FLAG_NEW: # the position was coded minus the prediction
			var a: int = ages[kp]
			kp += 1
			e[0] = (e[0] + outer.predict(bvx, e[3], a, kx)) & 0xffff
			e[1] = (e[1] + outer.predict(bvy, e[4], a, ky)) & 0xffff


class CellCopy:
	var id := 0
	var pred_k := [0, 0] # the position prediction's scale of the block that made it
	var ids := PoolIntArray() # NetIDs, ascending
	var ents := [] # per id: entity array, as Table.ents' (entity arrays are shared, never mutated)
	var sum := 0 # wrapping sum of the entity hashes


# ---- session state ----
var welcomed := false
var kicked := false
var kick_code := -1
var net_id := 0
var tick_rate := 30
var snapshot_rate := 0
var server_tick := 0

# ---- decoder state ----
var tables := [] # KEEP_TABLES slots, Table or null
var pinned: Table = null # the baseline last_base, kept when its slot was reused
var last_base := 0 # the baseline that the newest snapshot applied names
var newest := 0 # id of the newest snapshot held (0 = none)
var snapshots := 0 # decoded (hash compared)
var matched := 0
var mismatched := 0
var dropped := 0
var verbose_drops := true
var version := 4 # protocol version asked for in hello: 4, or 5 (cell streams)

# ---- cell decoder state (version 5) ----
var cells := {} # cell index -> Array of CellCopy, ascending (serial order) by id
var cell_applied := PoolIntArray() # KEEP_TABLES slots: ids of the snapshots applied
var cell_newest := 0 # id of the newest snapshot applied (0 = none)
var cell_params := PoolIntArray() # the current snapshot's parameter section
var _blk_end := 0 # where the block apply_block parsed ends
var _uv_end := 0 # where the uvarint _uvarint read ends

# ---- input state ----
var seq := 0
var history := [] # newest first: [seq, mx, my, buttons, emote]
var input_acc := 0.0
var wander_left := 0
var stick := [0, 0]
var rng := RandomNumberGenerator.new()
var inputs_sent := 0

var _buf := StreamPeerBuffer.new()
var mask_at := PoolIntArray() # index in the mask order -> mask (see COMMON_MASKS)


func _init() -> void:
	tables.resize(KEEP_TABLES)
	cell_applied.resize(KEEP_TABLES)
	for i in range(KEEP_TABLES):
		cell_applied[i] = 0
	cell_params.resize(CELL_PARAMS)
	rng.seed = 1
	var listed := {}
	for m in COMMON_MASKS:
		mask_at.append(m)
		listed[m] = true
	for m in range(256):
		if not listed.has(m):
			mask_at.append(m)


func hello(token: String) -> PoolByteArray:
	if version != CELL_PROTOCOL:
		return token.to_utf8()
	# Hello (net/game/msg.go: AppendHello): u8 type, u16 version, u8 token length,
	# the token, zero padding to HELLO_SIZE bytes.
	var tok := token.to_utf8()
	if tok.size() > MAX_TOKEN_LEN:
		tok = tok.subarray(0, MAX_TOKEN_LEN - 1) # the server rejects it
	var b := StreamPeerBuffer.new()
	b.put_u8(TYPE_HELLO)
	b.put_u16(version)
	b.put_u8(tok.size())
	b.put_data(tok)
	while b.get_size() < HELLO_SIZE:
		b.put_u8(0)
	return b.data_array


# on_packet handles one server message and returns the lines to print.
func on_packet(data: PoolByteArray) -> Array:
	if data.size() == 0:
		return ["BAD_MESSAGE empty"]
	match data[0]:
		TYPE_SNAPSHOT:
			return [apply_snapshot(data)]
		TYPE_CELL_SNAPSHOT:
			return [apply_cell_snapshot(data)]
		TYPE_WELCOME:
			return on_welcome(data)
		TYPE_KICK, TYPE_ERROR:
			return [on_notice(data)]
		TYPE_UPLOAD_ACK, TYPE_UPLOAD_DONE, TYPE_UPLOAD_ERROR, TYPE_CANVAS_INFO, TYPE_ART_CHUNK, TYPE_FETCH_ERROR:
			return on_art(data)
		TYPE_SHADOW_LIST:
			return [on_shadow_list(data)]
	return ["UNKNOWN %02x %d" % [data[0], data.size()]]


func on_welcome(data: PoolByteArray) -> Array:
	if data.size() < 26:
		return ["BAD_MESSAGE welcome %d bytes" % data.size()]
	_buf.data_array = data
	_buf.seek(1)
	net_id = _buf.get_u32()
	server_tick = _buf.get_u64()
	var rate := _buf.get_u16()
	_buf.get_u32() # arena width, µm
	_buf.get_u32() # arena height, µm
	snapshot_rate = _buf.get_u16()
	var n := _buf.get_u8()
	if rate > 0:
		tick_rate = rate
	welcomed = true
	var lines := ["WELCOME %d %d %d" % [net_id, server_tick, tick_rate]]
	var off := 26
	for _i in range(n):
		if off >= data.size():
			break
		var l: int = data[off]
		if l == 0 or off + l >= data.size():
			break
		lines.append("SHADOW %s" % data.subarray(off + 1, off + l).get_string_from_utf8())
		off += 1 + l
	return lines


# on_shadow_list prints the failover addresses a ShadowList announces
# ("SHADOWS <addr> <addr>..."); this client does not fail over, it only reports them.
func on_shadow_list(data: PoolByteArray) -> String:
	if data.size() < 2:
		return "BAD_MESSAGE shadow_list %d bytes" % data.size()
	var addrs := []
	var off := 2
	for _i in range(data[1]):
		if off >= data.size():
			return "BAD_MESSAGE shadow_list truncated"
		var l: int = data[off]
		if l == 0 or off + l >= data.size():
			return "BAD_MESSAGE shadow_list address"
		addrs.append(data.subarray(off + 1, off + l).get_string_from_utf8())
		off += 1 + l
	return "SHADOWS %s" % PoolStringArray(addrs).join(" ")


# on_notice prints a Kick ("KICK <code> <text>") or Error ("NOTICE <code> <text>").
func on_notice(data: PoolByteArray) -> String:
	var kind := "KICK" if data[0] == TYPE_KICK else "NOTICE"
	if data.size() < 4:
		return "BAD_MESSAGE %s %d bytes" % [kind.to_lower(), data.size()]
	var code: int = data[1] | (data[2] << 8)
	var n: int = data[3]
	var text := ""
	if n > 0 and data.size() >= 4 + n:
		text = data.subarray(4, 3 + n).get_string_from_utf8()
	if data[0] == TYPE_KICK:
		kicked = true
		kick_code = code
	return "%s %d %s" % [kind, code, text]


# ---- snapshots ----

func table(id: int) -> Table:
	if id == 0:
		return null
	var t = tables[id % KEEP_TABLES]
	if t == null or t.id != id:
		return null
	return t


func newest_table() -> Table:
	return table(newest)


func entities() -> int:
	if version == CELL_PROTOCOL:
		return cell_entities()
	var t := newest_table()
	return t.count if t != null else 0


# serial returns a - b as a signed 32-bit number (serial-number arithmetic).
static func serial(a: int, b: int) -> int:
	var d := (a - b) & U32
	if d >= 0x80000000:
		d -= 0x100000000
	return d


func drop(id: int, reason: String) -> String:
	dropped += 1
	return "SNAP_DROP %d %s" % [id, reason]


# apply_snapshot decodes one snapshot message and returns its output line:
#   SNAP <id> <base> <tick> <entities> <hash hex> <match|MISMATCH>
#   SNAP_DROP <id> <reason>   (short, range, too_large, duplicate, stale,
#                              baseline, zstd, corrupt)
# A mismatching table is not kept (as in Go), so it is never acked.
func apply_snapshot(data: PoolByteArray) -> String:
	if data.size() < HEADER_SIZE:
		return drop(0, "short")
	_buf.data_array = data
	_buf.seek(1)
	var id := _buf.get_u32()
	var base := _buf.get_u32()
	var merge := _buf.get_u32()
	var tick := _buf.get_u64()
	var want := _buf.get_u64()
	var size := _buf.get_u32()
	if id == 0 or (base != 0 and ((id - base - 1) & U32) >= MAX_BASE_DISTANCE):
		return drop(id, "range")
	if merge >= 0x80000000:
		return drop(id, "range")
	if size > MAX_PAYLOAD:
		return drop(id, "too_large")
	var slot = tables[id % KEEP_TABLES]
	if slot != null and slot.id == id:
		return drop(id, "duplicate")
	if slot != null and slot.id != 0 and serial(slot.id, id) > 0:
		return drop(id, "stale")
	var bt: Table = null
	if base != 0:
		bt = table(base)
		if bt == null and pinned != null and pinned.id == base:
			bt = pinned
		if bt == null:
			return drop(id, "baseline")
	var merged := [] # the tables merged, the oldest first
	for i in range(30, -1, -1):
		if merge & (1 << i):
			var mt := table((id - 1 - i) & U32)
			if mt == null:
				return drop(id, "baseline")
			merged.append(mt)
	if data.size() == HEADER_SIZE or size == 0:
		return drop(id, "zstd" if data.size() == HEADER_SIZE else "corrupt")
	var raw: PoolByteArray = data.subarray(HEADER_SIZE, data.size() - 1).decompress(size, File.COMPRESSION_ZSTD)
	if raw.size() != size:
		return drop(id, "zstd")
	var t := Table.new()
	if bt != null:
		t.ents = bt.ents.duplicate() # shallow: entity arrays are replaced, never mutated
		t.sum = bt.sum
		t.count = bt.count
		t.pred_k = bt.pred_k
	for mt in merged:
		merge_into(t, mt)
	if not decode_into(t, raw, id, bt != null):
		return drop(id, "corrupt")
	t.id = id
	t.tick = tick
	var got := table_hash(t.sum, t.count)
	snapshots += 1
	var ok := got == want
	if ok:
		matched += 1
		if newest == 0 or serial(id, newest) > 0:
			newest = id
			last_base = base
		var old = tables[id % KEEP_TABLES]
		tables[id % KEEP_TABLES] = t
		if old != null and old.id != 0 and old.id == last_base:
			pinned = old # the baseline outlives its slot
	else:
		mismatched += 1
	var line := "SNAP %d %d %d %d %s %s" % [id, base, tick, t.count, hex64(got), "match" if ok else "MISMATCH"]
	if not ok:
		line += "\nSNAP_HASH %d want=%s got=%s" % [id, hex64(want), hex64(got)]
	return line


# merge_into writes into t the entities that m's own records wrote, with m's
# values, where t does not hold them or holds an older value (doc.go).
func merge_into(t: Table, m: Table) -> void:
	var ents: Dictionary = t.ents
	for wid in m.written:
		var me: Array = m.ents[wid]
		if ents.has(wid):
			var te: Array = ents[wid]
			if serial(me[F_SEEN], te[F_SEEN]) <= 0:
				continue
			t.sum -= te[F_HASH]
		else:
			t.count += 1
		ents[wid] = me # entity arrays are replaced, never mutated
		t.sum += me[F_HASH]


# decode_into parses payload p (net/game/payload.go layout) of snapshot snap and
# applies it to t, which holds the baseline with the merges (has_base: t is not the
# empty table; its pred_k is the baseline's). It returns false on any malformation.
func decode_into(t: Table, p: PoolByteArray, snap: int, has_base: bool) -> bool:
	var n := p.size()
	_p = p
	_byte = 0
	_acc = 0
	_nb = 0
	_bad = false
	var nrem := _rice(0)
	var nrec := _rice(5)
	if _bad or 8 * (n - _byte) + _nb < nrem + 2 * nrec: # every number takes a bit at least
		return false
	# The position prediction's scale per axis: the baseline's, or given.
	var pred_kx := 0
	var pred_ky := 0
	if _bits(1) == 1:
		if not has_base:
			return false
		pred_kx = t.pred_k[0]
		pred_ky = t.pred_k[1]
	else:
		pred_kx = _bits(16)
		pred_ky = _bits(16)
	t.pred_k = [pred_kx, pred_ky]
	var rem := _read_ids(nrem)
	var ids := _read_ids(nrec)
	if _bad:
		return false
	# Masks: a dictionary of the distinct masks, then each record's rank in it.
	var masks := PoolIntArray()
	masks.resize(nrec)
	var g := [0, 0, 0, 0, 0, 0, 0, 0] # records per group
	var gn := [0, 0, 0, 0, 0, 0, 0, 0] # new records per group
	if nrec > 0:
		var d := _rice(2) + 1
		if _bad or d > nrec:
			return false
		var dict := PoolIntArray()
		dict.resize(d)
		var dup := {}
		var kd := _bits(4)
		for i in range(d):
			var x := _rice(kd)
			if _bad or x > 255:
				return false
			var m: int = mask_at[x]
			if dup.has(m):
				return false
			dup[m] = true
			dict[i] = m
		var k := _bits(4)
		for i in range(nrec):
			var r := _rice(k)
			if _bad or r >= d:
				return false
			var m: int = dict[r]
			masks[i] = m
			for b in range(8):
				g[b] += (m >> b) & 1
				if m & FLAG_NEW:
					gn[b] += (m >> b) & 1
	# The age shift of each position record that is not new (net/game/payload.go:
	# ageShift): its X and Y parameters are the list's base plus how many bits the
	# age of the entity's value (snapshots since the one that wrote it) has, minus 1.
	# Their ages (capped at MAX_PRED_AGE) also scale the position prediction.
	var shifts := PoolIntArray()
	var ages := PoolIntArray()
	for j in range(nrec):
		var mj: int = masks[j]
		if mj & 1 and not mj & FLAG_NEW:
			var age := 0
			if t.ents.has(ids[j]):
				age = (snap - t.ents[ids[j]][F_SEEN]) & U32
			ages.append(int(min(age, MAX_PRED_AGE)))
			var sh := 0
			while age > 1:
				age >>= 1
				sh += 1
			shifts.append(sh)
	var cols := _read_columns(nrec, masks, g, gn, shifts, PoolIntArray())
	if cols.empty():
		return false
	if _bad or _byte != n or _nb >= 8 or _acc != 0:
		return false # short, trailing bytes, or padding that is not zero
	# Apply: removals, then records.
	var ents: Dictionary = t.ents
	for i in range(nrem):
		var rid: int = rem[i]
		if not ents.has(rid):
			return false
		t.sum -= ents[rid][F_HASH]
		ents.erase(rid)
		t.count -= 1
	var rc := Records.new(self, cols, ages, pred_kx, pred_ky)
	for i in range(nrec):
		var id: int = ids[i]
		var m: int = masks[i]
		var e: Array
		if m & FLAG_NEW:
			if ents.has(id):
				return false
			e = rc.new_entity()
			t.count += 1
		else:
			if not ents.has(id):
				return false
			e = ents[id].duplicate()
			t.sum -= e[F_HASH]
		rc.apply(e, m)
		var h := hash_entity(id, e)
		e[F_HASH] = h
		e[F_SEEN] = snap
		t.sum += h
		ents[id] = e
	t.written = ids
	return true


# _read_columns reads the columns of a payload (net/game/payload.go: parse) for
# nrec records with masks, g and gn the records (and new records) per group and
# shifts the age shifts of the position records that are not new. shared, when
# not empty, holds the Rice parameters of the columns of the records that are
# not new (a cell-stream snapshot's parameter section, indices 3.. for columns
# 0..10): they are then not read from the stream. It returns the 13 columns,
# each in record order, or [] on any malformation.
func _read_columns(nrec: int, masks: PoolIntArray, g: Array, gn: Array, shifts: PoolIntArray, shared: PoolIntArray) -> Array:
	# Columns in wire order: [group bit, kind (0 u8, 1 u16, 2 zigzag i8, 3 zigzag
	# i16)], as net/game/payload.go's columns. Each has a parameter for the values
	# of records that are not new and one for those of new records (if any), then
	# the values of the former and those of the latter, each in record order.
	var cols := []
	var ci := -1
	for c in COLUMNS:
		ci += 1
		var bit: int = c[0]
		var cnt: int = g[bit]
		var vals := PoolIntArray()
		if cnt > 0:
			vals.resize(cnt)
			var ko := 0
			var kn := 0
			var dn := 0 # new records' values delta-coded
			if cnt > gn[bit]:
				if shared.size() > 0:
					ko = shared[3 + ci]
				else:
					ko = _bits(4)
			if gn[bit] > 0:
				dn = _bits(1)
				kn = _bits(4)
			var kind: int = c[1]
			var mask: int = 0xff if kind == 0 or kind == 2 else 0xffff # the column's width
			# The values of the records that are not new, then those of the new ones.
			var nold: int = cnt - gn[bit]
			var both := PoolIntArray()
			both.resize(cnt)
			var prev := 0 # the previous new record's value
			for i in range(cnt):
				var isnew := i >= nold
				var k := kn if isnew else ko
				if ci < 2 and not isnew: # a position delta: base (coded + 8) plus shift
					k = int(clamp(ko - 8 + shifts[i], 0, 15))
				var u := _rice(k)
				if _bad or u > mask:
					return []
				if isnew and dn:
					u = (prev + ((u >> 1) ^ -(u & 1))) & mask
					prev = u
				elif kind >= 2: # zigzag back; kept in wire form (u8 byte, u16 mod 65536)
					u = ((u >> 1) ^ -(u & 1)) & mask
				both[i] = u
			if nold == 0 or nold == cnt:
				vals = both
			else: # into record order
				var io := 0
				var inew := nold
				var i := 0
				for j in range(nrec):
					var mj: int = masks[j]
					if not (mj >> bit) & 1:
						continue
					if mj & FLAG_NEW:
						vals[i] = both[inew]
						inew += 1
					else:
						vals[i] = both[io]
						io += 1
					i += 1
		cols.append(vals)
	return cols


# predict returns the position change (steps) the mean of the baseline and the new
# velocity (u8 bytes of i8 values) predicts over age snapshots at scale k:
# ((bv + cv) * age * k + 4096) >> 13 (net/game/payload.go: predict).
static func predict(bb: int, cb: int, age: int, k: int) -> int:
	var bv: int = bb - 256 if bb >= 128 else bb
	var cv: int = cb - 256 if cb >= 128 else cb
	return ((bv + cv) * age * k + 4096) >> 13


# heading_of returns the binary angle (256 = a full turn) of velocity (vx, vy),
# given as u8 bytes of i8 values: net/game/heading.go's cordicHeading, exactly
# (integer CORDIC; GDScript's >> is arithmetic on negative ints, as Go's on int32).
static func heading_of(bx: int, by: int) -> int:
	var x: int = bx - 256 if bx >= 128 else bx
	var y: int = by - 256 if by >= 128 else by
	if x == 0 and y == 0:
		return 0
	var a := 0
	if x < 0:
		x = -x
		y = -y
		a = 32768
	x <<= 16
	y <<= 16
	for i in range(14):
		var t: int = CORDIC_ATAN[i]
		if y > 0:
			var nx: int = x + (y >> i)
			y = y - (x >> i)
			x = nx
			a += t
		else:
			var nx: int = x - (y >> i)
			y = y + (x >> i)
			x = nx
			a -= t
	return ((a + 128) >> 8) & 255


# ---- Rice-coded bitstream (net/game/payload.go: bitWriter, bitReader) ----
# Bits are read least significant first. A number with parameter k is q one bits
# and a zero, then k bits (u = q << k | bits); 16 one bits escape to 16 raw bits,
# used only when q would be 16 or more.
var _p: PoolByteArray
var _byte := 0 # next byte of _p to load
var _acc := 0 # loaded bits not yet read (fewer than 48: never negative)
var _nb := 0 # how many
var _bad := false # read past the end, or a non-canonical escape


func _fill(want: int) -> void:
	while _nb < want and _byte < _p.size():
		_acc |= _p[_byte] << _nb
		_byte += 1
		_nb += 8


func _bits(n: int) -> int:
	if _nb < n:
		_fill(n)
		if _nb < n:
			_bad = true
			return 0
	var v := _acc & ((1 << n) - 1)
	_acc >>= n
	_nb -= n
	return v


func _rice(k: int) -> int:
	_fill(32)
	var q := 0
	var a := _acc
	while q < 16 and q < _nb and (a & 1) == 1:
		a >>= 1
		q += 1
	if q == 16:
		_acc = a
		_nb -= 16
		var u := _bits(16)
		if (u >> k) < 16:
			_bad = true
		return u
	if q >= _nb: # no zero before the end
		_bad = true
		return 0
	_acc = a >> 1
	_nb -= q + 1
	return (q << k) | _bits(k)


# _read_ids reads n Rice-coded id gaps (minus one; k first) as ascending ids.
func _read_ids(n: int) -> PoolIntArray:
	var ids := PoolIntArray()
	if n == 0:
		return ids
	ids.resize(n)
	var k := _bits(4)
	var prev := 0
	for i in range(n):
		prev += _rice(k) + 1
		if _bad or prev > 65535:
			_bad = true
			return ids
		ids[i] = prev
	return ids


# ---- NQH1 state hash (doc.go, "State hash") ----

static func mix(h: int, w: int) -> int:
	var x := h ^ w
	return (x ^ ((x >> 31) & LSR31)) * HASH_MUL


static func fmix64(k: int) -> int:
	k ^= (k >> 33) & LSR33
	k *= FMIX_C1
	k ^= (k >> 33) & LSR33
	k *= FMIX_C2
	k ^= (k >> 33) & LSR33
	return k


# hash_entity hashes entity id with wire fields e (X, Y, Head, VX, VY, Machine,
# State, Clip, Speed, TimeRef, PrevClip, Fade, Team; VX, VY as u8).
static func hash_entity(id: int, e: Array) -> int:
	# mix and fmix64 inlined: GDScript calls are costly and this runs per record.
	var x: int = HASH_SEED ^ ((id & U32) | (e[0] << 32) | (e[1] << 48))
	var h: int = (x ^ ((x >> 31) & LSR31)) * HASH_MUL
	x = h ^ (e[5] | (e[6] << 16) | (e[7] << 32) | (e[10] << 48))
	h = (x ^ ((x >> 31) & LSR31)) * HASH_MUL
	x = h ^ (e[9] | (e[2] << 16) | (e[3] << 24) | (e[4] << 32) | (e[11] << 40) | (e[12] << 48) | ((e[8] & 255) << 56))
	h = (x ^ ((x >> 31) & LSR31)) * HASH_MUL
	x = h ^ (e[8] >> 8)
	h = (x ^ ((x >> 31) & LSR31)) * HASH_MUL
	h ^= (h >> 33) & LSR33
	h *= FMIX_C1
	h ^= (h >> 33) & LSR33
	h *= FMIX_C2
	h ^= (h >> 33) & LSR33
	return h


static func table_hash(sum: int, count: int) -> int:
	return fmix64(sum + count)


# hex64 formats x as 16 hex digits of its unsigned 64-bit value.
static func hex64(x: int) -> String:
	return "%08x%08x" % [(x >> 32) & U32, x & U32]


# rehash recomputes the hash of t from its content (like Go's Table.Hash).
static func rehash(t: Table) -> int:
	var sum := 0
	for id in t.ents:
		sum += hash_entity(id, t.ents[id])
	return table_hash(sum, t.ents.size())


# ---- cell streams (protocol version 5) ----
# A port of net/game/celldecode.go (CellDecoder): per cell, the copies of the
# last CELL_COPIES snapshots applied that carried it; each block of a snapshot
# applies to the copy it names (or to nothing) and gives a new copy, held under
# the snapshot's id once the whole snapshot checks out: the table hash of the
# entities of all the cells it carries must be the header's.

# apply_cell_snapshot decodes one cell snapshot message (0x1C) and returns its
# output line:
#   CSNAP <id> <tick> <blocks> <deltas> <entities> <hash hex> <match|MISMATCH>
#     blocks: cells carried; deltas: those coded against a copy; entities: in
#     the cells carried; hash: of those entities, as decoded
#   SNAP_DROP <id> <reason>   (short, range, too_large, duplicate, stale,
#                              baseline, zstd, corrupt)
# A snapshot whose hash does not match keeps no copy, so it is never acked.
func apply_cell_snapshot(data: PoolByteArray) -> String:
	if data.size() < CELL_HEADER_SIZE:
		return drop(0, "short")
	_buf.data_array = data
	_buf.seek(1)
	var id := _buf.get_u32()
	var tick := _buf.get_u64()
	var want := _buf.get_u64()
	var size := _buf.get_u32()
	if id == 0:
		return drop(id, "range")
	if size > MAX_PAYLOAD:
		return drop(id, "too_large")
	if cell_applied[id % KEEP_TABLES] == id:
		return drop(id, "duplicate")
	if cell_newest != 0 and serial(cell_newest, id) >= KEEP_TABLES:
		return drop(id, "stale")
	if data.size() == CELL_HEADER_SIZE:
		return drop(id, "zstd")
	if size < CELL_PARAMS_SIZE:
		return drop(id, "corrupt")
	var raw: PoolByteArray = data.subarray(CELL_HEADER_SIZE, data.size() - 1).decompress(size, File.COMPRESSION_ZSTD)
	if raw.size() != size:
		return drop(id, "zstd")
	# The parameter section: 4 bits each, low nibble first.
	for j in range(CELL_PARAMS):
		cell_params[j] = (raw[j >> 1] >> (4 * (j & 1))) & 15
	var pending := [] # [cell index, CellCopy] per block
	var sum := 0
	var count := 0
	var deltas := 0
	var off := CELL_PARAMS_SIZE
	var prev := -1
	var n := raw.size()
	while off < n:
		var gap := _uvarint(raw, off)
		if gap < 0 or gap >= MAX_CELLS:
			return drop(id, "corrupt")
		off = _uv_end
		var dist := _uvarint(raw, off)
		if dist < 0 or dist >= 0x80000000:
			return drop(id, "corrupt")
		off = _uv_end
		var ci: int = prev + 1 + gap
		if ci >= MAX_CELLS:
			return drop(id, "corrupt")
		prev = ci
		var base: CellCopy = null
		if dist != 0:
			base = copy_of(ci, (id - dist) & U32)
			if base == null:
				return drop(id, "baseline")
			deltas += 1
		var c := apply_block(raw, off, id, base)
		if c == null:
			return drop(id, "corrupt")
		off = _blk_end
		sum += c.sum
		count += c.ids.size()
		pending.append([ci, c])
	var got := table_hash(sum, count)
	snapshots += 1
	var ok := got == want
	if ok:
		matched += 1
		for pc in pending:
			keep_copy(pc[0], pc[1])
		cell_applied[id % KEEP_TABLES] = id
		if cell_newest == 0 or serial(id, cell_newest) > 0:
			cell_newest = id
	else:
		mismatched += 1
	var line := "CSNAP %d %d %d %d %d %s %s" % [id, tick, pending.size(), deltas, count, hex64(got), "match" if ok else "MISMATCH"]
	if not ok:
		line += "\nSNAP_HASH %d want=%s got=%s" % [id, hex64(want), hex64(got)]
	return line


# copy_of returns the copy of cell ci from snapshot id, or null.
func copy_of(ci: int, id: int) -> CellCopy:
	if not cells.has(ci):
		return null
	for c in cells[ci]:
		if c.id == id:
			return c
	return null


# keep_copy adds copy c of cell ci, dropping the oldest beyond CELL_COPIES.
func keep_copy(ci: int, c: CellCopy) -> void:
	var cs: Array = cells[ci] if cells.has(ci) else []
	var i := 0
	while i < cs.size() and serial(cs[i].id, c.id) < 0:
		i += 1
	cs.insert(i, c)
	if cs.size() > CELL_COPIES:
		cs.pop_front()
	cells[ci] = cs


# _uvarint reads an unsigned varint (Go's binary.Uvarint) at off of b, setting
# _uv_end past it. It returns -1 when b ends first, on overflow, or for a value
# of 2^35 or more (beyond every field's range).
func _uvarint(b: PoolByteArray, off: int) -> int:
	var x := 0
	var s := 0
	var big := false
	for i in range(10):
		if off + i >= b.size():
			return -1
		var c: int = b[off + i]
		if i == 9 and c > 1:
			return -1 # overflows 64 bits
		if s >= 35:
			if c & 0x7f != 0:
				big = true
		else:
			x |= (c & 0x7f) << s
		if c < 0x80:
			_uv_end = off + i + 1
			return -1 if big else x
		s += 7
	return -1


# apply_block parses the block payload at off of raw (net/game/payload.go's
# parse with shared parameters, byMembers and prefix) for snapshot snap against
# copy base (null: none), applies it (CellDecoder.applyBlock) and returns the
# copy it gives, with _blk_end set to the block's end; null if it is corrupt.
func apply_block(raw: PoolByteArray, off: int, snap: int, base: CellCopy) -> CellCopy:
	var n := raw.size()
	_p = raw
	_byte = off
	_acc = 0
	_nb = 0
	_bad = false
	var nrem := _rice(0)
	var nrec := _rice(5)
	if _bad or 8 * (n - _byte) + _nb < nrem + 2 * nrec: # every number takes a bit at least
		return null
	var pred_kx := 0
	var pred_ky := 0
	if _bits(1) == 1: # the copy's scale
		if base == null:
			return null
		pred_kx = base.pred_k[0]
		pred_ky = base.pred_k[1]
	else:
		pred_kx = _bits(16)
		pred_ky = _bits(16)
	var rem := PoolIntArray()
	if nrem > 0:
		rem = _read_gaps(nrem, cell_params[0])
		if _bad:
			return null
	var members := PoolIntArray()
	var mvals := []
	if base != null:
		members = base.ids
		mvals = base.ents
	var nm := members.size()
	# Record ids against the copy's entities: a bit per entity of the copy, then
	# the ids of the others as gaps; merged ascending. member[j]: record j's
	# entity is in the copy.
	var ids := PoolIntArray()
	var member := PoolIntArray()
	var masks := PoolIntArray()
	var g := [0, 0, 0, 0, 0, 0, 0, 0] # records per group
	var gn := [0, 0, 0, 0, 0, 0, 0, 0] # new records per group
	if nrec > 0:
		var held := PoolIntArray()
		for i in range(nm):
			if _bits(1) == 1:
				held.append(members[i])
		if _bad or held.size() > nrec:
			return null
		var extra := PoolIntArray()
		if nrec > held.size():
			extra = _read_gaps(nrec - held.size(), cell_params[1])
			if _bad:
				return null
		var j := 0
		var mi := 0
		for x in extra:
			while mi < nm and members[mi] < x:
				mi += 1
			if mi < nm and members[mi] == x:
				return null # a member is coded by its bit only
			while j < held.size() and held[j] < x:
				ids.append(held[j])
				member.append(1)
				j += 1
			ids.append(x)
			member.append(0)
		while j < held.size():
			ids.append(held[j])
			member.append(1)
			j += 1
		# Masks as their index in the common order (no dictionary).
		masks.resize(nrec)
		var kr: int = cell_params[2]
		for i in range(nrec):
			var x := _rice(kr)
			if _bad or x > 255:
				return null
			var m: int = mask_at[x]
			masks[i] = m
			for b in range(8):
				g[b] += (m >> b) & 1
				if m & FLAG_NEW:
					gn[b] += (m >> b) & 1
	# Ages: a record of an entity of the copy is snap - copy's id old; others 0.
	var age := 0
	if base != null:
		age = (snap - base.id) & U32
	var sh := 0
	var a := age
	while a > 1:
		a >>= 1
		sh += 1
	var shifts := PoolIntArray()
	var ages := PoolIntArray()
	for j in range(nrec):
		var mj: int = masks[j]
		if mj & 1 and not mj & FLAG_NEW:
			if member[j] == 1:
				ages.append(int(min(age, MAX_PRED_AGE)))
				shifts.append(sh)
			else:
				ages.append(0)
				shifts.append(0)
	var cols := _read_columns(nrec, masks, g, gn, shifts, cell_params)
	if cols.empty() or _bad:
		return null
	# The block ends where its bits do, padded to a byte with zero bits.
	var used := 8 * _byte - _nb
	var pad := (-used) & 7
	if _acc & ((1 << pad) - 1) != 0:
		return null
	_blk_end = (used + pad) >> 3
	var rc := Records.new(self, cols, ages, pred_kx, pred_ky)
	# Merge the copy's entities, the removals and the records (all ascending).
	var out_ids := PoolIntArray()
	var out_ents := []
	var sum := 0
	var i := 0
	var ri := 0
	var k := 0
	while i < nm or k < nrec:
		var id := 0
		var is_member := false
		if k >= nrec or (i < nm and members[i] < ids[k]):
			id = members[i]
			is_member = true
		elif i < nm and members[i] == ids[k]:
			id = members[i]
			is_member = true
		else:
			id = ids[k]
		var removed := ri < nrem and rem[ri] == id
		if removed:
			ri += 1
			if not is_member:
				return null # removes an entity the copy does not hold
		var e = null
		if is_member:
			e = mvals[i]
			i += 1
		if k < nrec and ids[k] == id:
			if removed:
				return null # a record of an entity removed
			var m: int = masks[k]
			k += 1
			if m & FLAG_NEW:
				e = rc.new_entity()
			elif not is_member:
				return null # a delta for an entity the copy does not hold
			else:
				e = e.duplicate()
			rc.apply(e, m)
			e[F_HASH] = hash_entity(id, e)
			e[F_SEEN] = snap
		if not removed:
			out_ids.append(id)
			out_ents.append(e)
			sum += e[F_HASH]
	if ri != nrem:
		return null # removes an entity the copy does not hold
	var c := CellCopy.new()
	c.id = snap
	c.pred_k = [pred_kx, pred_ky]
	c.ids = out_ids
	c.ents = out_ents
	c.sum = sum
	return c


# _read_gaps reads n Rice-coded id gaps (minus one) with parameter k as
# ascending ids; it sets _bad past 65535.
func _read_gaps(n: int, k: int) -> PoolIntArray:
	var ids := PoolIntArray()
	ids.resize(n)
	var prev := 0
	for i in range(n):
		prev += _rice(k) + 1
		if _bad or prev > 65535:
			_bad = true
			return ids
		ids[i] = prev
	return ids


# cell_each returns the entities the client holds (CellDecoder.Each): those of
# the newest copy of each cell, each entity once, from the newest copy holding it:
# NetID -> entity array.
func cell_each() -> Dictionary:
	var keys := cells.keys()
	keys.sort()
	var at := {}
	for ci in keys:
		var cs: Array = cells[ci]
		if cs.empty():
			continue
		var c: CellCopy = cs.back()
		for id in c.ids:
			if not at.has(id) or serial(c.id, at[id]) > 0:
				at[id] = c.id
	var out := {}
	for ci in keys:
		var cs: Array = cells[ci]
		if cs.empty():
			continue
		var c: CellCopy = cs.back()
		var ids: PoolIntArray = c.ids
		for k in range(ids.size()):
			var id: int = ids[k]
			if at.has(id) and at[id] == c.id:
				at.erase(id)
				out[id] = c.ents[k]
	return out


# cell_entities returns the number of distinct entities in the newest copy of
# each cell.
func cell_entities() -> int:
	var seen := {}
	for ci in cells:
		var cs: Array = cells[ci]
		if cs.empty():
			continue
		for id in cs.back().ids:
			seen[id] = true
	return seen.size()


# cell_hash returns the table hash of the entities cell_each returns.
func cell_hash() -> int:
	var all := cell_each()
	var sum := 0
	for id in all:
		sum += all[id][F_HASH]
	return table_hash(sum, all.size())


# cell_ack returns [newest, bits] of the snapshots applied (CellDecoder.Ack).
func cell_ack() -> Array:
	if cell_newest == 0:
		return [0, 0]
	var bits := 0
	for i in range(32):
		var id := (cell_newest - 1 - i) & U32
		if id != 0 and cell_applied[id % KEEP_TABLES] == id:
			bits |= 1 << i
	return [cell_newest, bits]


# ---- inputs and acks ----

# ack returns [newest, bits]: bit i set when snapshot newest-1-i is held too.
func ack() -> Array:
	if version == CELL_PROTOCOL:
		return cell_ack()
	if newest == 0:
		return [0, 0]
	var bits := 0
	for i in range(32):
		if table((newest - 1 - i) & U32) != null:
			bits |= 1 << i
	return [newest, bits]


# poll advances the input clock by delta seconds and returns the Input messages
# to send: one per server tick (at the Welcome tick rate), none before Welcome.
func poll(delta: float) -> Array:
	var out := []
	if not welcomed or kicked:
		return out
	var period := 1.0 / tick_rate
	input_acc += delta
	if input_acc > 4 * period:
		input_acc = period # stalled: do not burst
	while input_acc >= period:
		input_acc -= period
		out.append(next_input())
	return out


# next_input samples the next input (a wander: a new stick every ~2 s) and
# returns the Input message carrying it and the few before it.
func next_input() -> PoolByteArray:
	seq = (seq + 1) & U32
	if wander_left <= 0:
		wander_left = 2 * tick_rate
		if seq > 1 and rng.randi_range(0, 3) == 0: # stand still now and then, never at first
			stick = [0, 0]
		else:
			stick = [rng.randi_range(-127, 127), rng.randi_range(-127, 127)]
	wander_left -= 1
	history.push_front([seq, stick[0], stick[1], 0, 0])
	if history.size() > SEND_INPUTS:
		history.resize(SEND_INPUTS)
	return input_message()


func input_message() -> PoolByteArray:
	var a := ack()
	var b := StreamPeerBuffer.new()
	b.put_u8(TYPE_INPUT)
	b.put_u32(a[0])
	b.put_u32(a[1])
	var n: int = min(history.size(), MAX_INPUTS)
	b.put_u8(n)
	for i in range(n):
		var in_: Array = history[i]
		b.put_u32(in_[0])
		b.put_8(in_[1])
		b.put_8(in_[2])
		b.put_u8(in_[3])
		b.put_u8(in_[4])
	inputs_sent += 1
	return b.data_array


# ---- art: upload, canvases, fetch ----

var upload_data := PoolByteArray()
var upload_hash := PoolByteArray()
var upload_next := -1 # next byte to send; -1 until the Begin is acked
var upload_acked := 0
var upload_result := 0 # 0 running or none, 1 done, 2 failed
var fetch_art := false # fetch the bytes of every canvas learnt
var canvases := {} # canvas id -> art hash hex
var fetch_bufs := {} # art hash hex -> PoolByteArray received so far
var arts := 0 # fetches completed
var reliable_out := [] # messages to send on the reliable channel


# take_reliable returns the messages to send reliably now.
func take_reliable() -> Array:
	var r := reliable_out
	reliable_out = []
	return r


static func sha256(data: PoolByteArray) -> PoolByteArray:
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA256)
	ctx.update(data)
	return ctx.finish()


# start_upload queues the UploadBegin of data (PNG or JPEG bytes).
func start_upload(data: PoolByteArray) -> void:
	upload_data = data
	upload_hash = sha256(data)
	upload_next = -1
	upload_acked = 0
	upload_result = 0
	var ctype := 1
	if data.size() >= 3 and data[0] == 0xff and data[1] == 0xd8 and data[2] == 0xff:
		ctype = 2
	var b := StreamPeerBuffer.new()
	b.put_u8(TYPE_UPLOAD_BEGIN)
	b.put_u32(data.size())
	b.put_data(upload_hash)
	b.put_u8(ctype)
	reliable_out.append(b.data_array)


# pump_upload queues the chunks the window allows.
func pump_upload() -> void:
	var size := upload_data.size()
	while upload_next >= 0 and upload_next < size and upload_next - upload_acked < UPLOAD_WINDOW:
		var end: int = upload_next + ART_CHUNK
		if end > size:
			end = size
		var b := StreamPeerBuffer.new()
		b.put_u8(TYPE_UPLOAD_CHUNK)
		b.put_u32(upload_next)
		b.put_u16(end - upload_next)
		b.put_data(upload_data.subarray(upload_next, end - 1))
		reliable_out.append(b.data_array)
		upload_next = end


static func art_text(data: PoolByteArray) -> String:
	var n: int = data[35]
	if n == 0 or data.size() < 36 + n:
		return ""
	return data.subarray(36, 35 + n).get_string_from_utf8()


# on_art handles the art messages and returns the lines to print.
func on_art(data: PoolByteArray) -> Array:
	var t: int = data[0]
	var sizes := {TYPE_UPLOAD_ACK: 37, TYPE_UPLOAD_DONE: 41, TYPE_UPLOAD_ERROR: 36, TYPE_CANVAS_INFO: 67, TYPE_ART_CHUNK: 44, TYPE_FETCH_ERROR: 36}
	if data.size() < sizes[t]:
		return ["BAD_MESSAGE %02x %d bytes" % [t, data.size()]]
	_buf.data_array = data
	match t:
		TYPE_UPLOAD_ACK:
			if data.subarray(1, 32) != upload_hash or upload_result != 0:
				return []
			_buf.seek(33)
			var got := _buf.get_u32()
			if got > upload_acked:
				upload_acked = got
			if upload_next < 0:
				upload_next = got
				pump_upload()
				if got > 0:
					return ["UPLOAD_RESUME %d" % got]
				return []
			pump_upload()
			return []
		TYPE_UPLOAD_DONE:
			_buf.seek(33)
			upload_result = 1
			return ["UPLOAD_DONE %s %d" % [data.subarray(1, 32).hex_encode(), _buf.get_u32()]]
		TYPE_UPLOAD_ERROR:
			_buf.seek(33)
			upload_result = 2
			return ["UPLOAD_ERROR %d %s" % [_buf.get_u16(), art_text(data)]]
		TYPE_FETCH_ERROR:
			_buf.seek(33)
			var hx := data.subarray(1, 32).hex_encode()
			fetch_bufs.erase(hx)
			return ["FETCH_ERROR %s %d %s" % [hx, _buf.get_u16(), art_text(data)]]
		TYPE_CANVAS_INFO:
			_buf.seek(1)
			var id := _buf.get_u32()
			var owner := _buf.get_u32()
			var art_hash := data.subarray(27, 58)
			_buf.seek(59)
			var w := _buf.get_u16()
			var h := _buf.get_u16()
			var hx := art_hash.hex_encode()
			var lines := ["CANVAS %d %d %s %d %d" % [id, owner, hx, w, h]]
			canvases[id] = hx
			if fetch_art and not fetch_bufs.has(hx):
				fetch_bufs[hx] = PoolByteArray()
				var b := StreamPeerBuffer.new()
				b.put_u8(TYPE_FETCH_ART)
				b.put_data(art_hash)
				reliable_out.append(b.data_array)
			return lines
		TYPE_ART_CHUNK:
			var hx := data.subarray(1, 32).hex_encode()
			_buf.seek(33)
			var total := _buf.get_u32()
			var off := _buf.get_u32()
			var n := _buf.get_u16()
			if not fetch_bufs.has(hx) or data.size() != 43 + n or n == 0:
				return ["BAD_MESSAGE art chunk"]
			var got: PoolByteArray = fetch_bufs[hx]
			if off != got.size() or off + n > total:
				fetch_bufs.erase(hx)
				return ["FETCH_ERROR %s 0 chunk at %d, have %d" % [hx, off, got.size()]]
			got.append_array(data.subarray(43, 42 + n))
			fetch_bufs[hx] = got
			if got.size() == total:
				arts += 1
				return ["ART %s %s" % [hx, sha256(got).hex_encode()]]
	return []


