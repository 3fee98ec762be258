// Package game is shardsim's game protocol: the messages carried in Godot raw-bytes
// payloads (multiplayer.send_bytes / network_peer_packet) between a stock Godot client
// and a shard. Framing below (ENet, Godot commands) is net/enet's and net/godot's job.
//
// Session admission uses connect tokens ([MintToken], [VerifyToken]) signed with a server
// key ([LoadOrCreateKey], [DefaultKeyPath]). Clients send [HelloMsg] then [InputMsg] every
// tick; the server answers [WelcomeMsg], [NoticeMsg] (Kick, Error) and snapshots.
//
// Snapshots: once per snapshot tick the server quantizes the whole world into a [Frame]
// with [FrameRing.Capture]. Per client, an [Encoder] selects the entities that differ
// from the client's baseline (the table it acked, kept in its [ClientView]), most
// relevant first, delta-encodes them and compresses them with zstd to fit the view's
// budget ([Encoder.AppendSnapshot]); [ClientView.Ack] adopts acked snapshots as
// baselines. The client side is a [Decoder] that keeps the last [KeepTables] [Table]s by
// snapshot id and applies each snapshot to the baseline it names ([Decoder.Apply]),
// checking the server's state hash ([Table.Hash]). A [Tracker] follows the same stream
// from the headers alone and acks as a Decoder would, for load generators.
//
// Cell streams (protocol version 5, [CellProtocolVersion]) are the other way to send
// the same frames, chosen by the client's Hello: a client holds each interest cell as
// of one snapshot, snapshots carry whole cells on a schedule every client follows, and
// the block of a (cell, copy) pair is coded once per frame for every client holding
// that copy ([CellEncoder], [CellView], [CellDecoder], [CellTracker]; "Cell streams"
// below). The server's work per client is then mostly copying bytes.
//
// # Wire format (version 4)
//
// All integers are little-endian (StreamPeerBuffer's default). Every message starts with
// its type byte ([MsgType]). Parsers reject short input, trailing bytes and out-of-range
// fields; the encodings are canonical (parse → append gives back the same bytes).
//
//	Hello   (0x01, client → server), exactly HelloSize = 300 bytes
//	  0  u8   type
//	  1  u16  protocol version: 4 (snapshots as below), 5 (cell streams: see "Cell
//	          streams"); a bare token instead of a Hello means 4. (3 had a 4-byte
//	          checksum and counts; 2 had byte columns; 1 no merge bits.)
//	  3  u8   token length n (≤ 255)
//	  4  n    token text
//	  4+n     zero padding to 300 bytes: no server reply before authentication is larger
//	          than the Hello (no amplification)
//
//	Input   (0x02, client → server), 10 + 8·count bytes
//	  0  u8   type
//	  1  u32  ack: newest snapshot id the client holds (0 = none)
//	  5  u32  ack bits: bit i set = snapshot (newest−1−i) held too
//	  9  u8   count (≤ 8): inputs follow, newest first, repeated for redundancy
//	  10 count × { u32 client tick/sequence, i8 move x, i8 move y, u8 buttons, u8 emote }
//
//	Welcome (0x10, server → client), 26 + Σ(1+len) bytes (≤ 286)
//	  0  u8   type
//	  1  u32  your NetID
//	  5  u64  server tick
//	  13 u16  tick rate (Hz, > 0)
//	  15 u32  arena width, µm (1..2^30)
//	  19 u32  arena height, µm
//	  23 u16  snapshot rate (Hz, > 0)
//	  25 u8   shadow address count (≤ 4), then per address: u8 len (1..64), UTF-8 bytes
//
//	Kick (0x11) / Error (0x12), 4 + len bytes
//	  0  u8   type
//	  1  u16  reason code ([Reason])
//	  3  u8   text length (≤ 255), then UTF-8 text
//
//	Snapshot (0x13, server → client), at most MaxPacket = 1200 bytes
//	  0  u8   type
//	  1  u32  snapshot id (≠ 0, increasing)
//	  5  u32  baseline snapshot id; 0 = full (baseline is the empty table);
//	          otherwise 1 ≤ id − baseline ≤ 62 (MaxBaseDistance; see "Merging")
//	  9  u32  merge bits: bit i (i ≤ 30) set = merge snapshot id−1−i (see "Merging")
//	  13 u64  server tick
//	  21 u64  state hash of the client's table after applying (see "State hash")
//	  29 u32  payload size (uncompressed, ≤ MaxPayload = 65536)
//	  33 …    one zstd frame (no content checksum: the state hash checks the result;
//	          no dictionary) of the payload, compressed or raw and RLE blocks (see
//	          "Compression" below):
//	          PoolByteArray.decompress(size, File.COMPRESSION_ZSTD) in Godot
//
// # Compression
//
// The payload is already entropy-coded (Rice codes, below), so zstd finds almost
// nothing in it: a payload goes in a frame of raw blocks (with any run of 8 or more
// equal bytes in an RLE block), which any zstd decoder reads; one in 32 is also
// compressed with zstd to compare, and while zstd saves 10% or more over that frame
// the encoder compresses them all (and sends the smaller of the two). Payloads with 8
// or more new entities or removals (a client learning the world) are measured apart
// from the mostly-delta rest.
//
// # Snapshot payload
//
// A bitstream, least significant bit of each byte first, zero-padded to a byte:
//
//	rice_0(nrem), rice_5(nrec)                      removed entities, entity records
//	u1 s; if s = 0: u16 KX, u16 KY                  the position prediction's scale (below)
//	if nrem > 0: u4 k, nrem × rice_k(id gap − 1)   removed ids, ascending
//	if nrec > 0: u4 k, nrec × rice_k(id gap − 1)   record ids, ascending (≤ 65535)
//	             rice_2(d − 1), u4 k, d × rice_k(i) the distinct masks (d ≤ nrec), most
//	                     frequent first, each as its index i (≤ 255) in the mask order
//	             u4 k, nrec × rice_k(rank)         each record's mask as its index (< d)
//	per column, in the order below, if any record's mask has the column's group:
//	             u4 k    if a record that is not new has the group (deltas, mostly small)
//	             u1 d, u4 k'   if a new record has it: d = 1 when the new records'
//	                     values are delta-coded (below)
//	             the values of the records that are not new, rice_k, in record
//	             order; then those of the new records, rice_k', in record order
//
// The mask order starts with the 32 masks most dictionaries hold, most frequent first
// (0x01 0x07 0x1f 0x3f 0x1d 0x17 0x3d 0x20 0x05 0x21 0x27 0x37 0x18 0x0f 0x25 0x38
// 0x10 0x1b 0x13 0xdf 0x08 0x30 0x2f 0x0d 0xc1 0x3c 0xd9 0xff 0x03 0x33 0x3b 0x1c),
// then has the other 224 ascending: a common mask costs 4 to 6 bits instead of 8.
//
// The position deltas (X and Y) of records that are not new take a parameter per
// record: their list's u4 is the base plus 8, and a record's parameter is base +
// bits.Len(age) − 1 (within 0..15; age 0 counts as 1), with age the number of
// snapshots since the one that wrote the entity's value in the table the snapshot
// applies to (its baseline with the merges: the "seen" of "Merging"): how far an
// entity moved grows with the time its value is old, so one parameter fits values of
// all ages (shard's world: 6.53 → 6.29 bytes per record).
//
// They are also coded minus a prediction: the mean of the baseline velocity and the
// record's (after its vel group) times the age (capped at 64 snapshots), at a scale
// per axis, KX and KY (steps per VelUnit of velocity per snapshot, ×4096), that every
// payload carries after its counts: s = 1 says they are the baseline snapshot's (the
// scale its own payload carried; a table keeps it), and is corrupt in a full snapshot;
// otherwise they follow as two u16. The delta coded is value − baseline − ((bv + cv)·age·K + 4096) >> 13
// (arithmetic shift, mod 65536; [FrameRing] derives K from the arena, the tick rate
// and the ticks per snapshot). Entities keep moving the way they moved: shard's world
// 6.3 → 5.8 bytes per record, the load run's players 7.1 → 6.8.
//
// An id gap is the id minus the previous id of its list (the first minus 0), ≥ 1.
// rice_k(u), for a number u and a parameter k (0..15): q = u>>k one bits and a zero
// bit, then the k low bits of u; when q ≥ 16, sixteen one bits and u in 16 bits
// instead (and only then: decoders reject an escape that codes a smaller q). The
// encoder picks each list's k (the one that codes it in the fewest bits, searched
// around log2 of its mean) and the mask order; decoders take what the stream says.
// Signed values (i8, i16 below) are zigzag-coded first: 0, −1, 1, −2, 2… → 0, 1, 2,
// 3, 4…; a value out of its column's range (above 255 for u8 and i8) is corrupt.
// Delta-coded new values: each new record's value in the column is coded as its
// difference from the previous new record's value in it (the first from 0), in the
// column's width (8 or 16 bits, wrapping) and zigzag-coded; the encoder does so for a
// column when that is shorter (values most entities share: Speed, Machine, Team).
//
//	group  columns (in this order)
//	bit 0 pos    i16 X delta, i16 Y delta      (value = baseline + delta mod 65536)
//	bit 2 vel    i8 VX, i8 VY
//	bit 1 head   i8 Head − HeadingOf(VX, VY)   (the record's velocity after applying it)
//	bit 3 anim   u16 State, u16 Clip
//	bit 4 time   i16 TimeRef delta             (mod 65536)
//	bit 5 fade   u16 PrevClip, u8 Fade
//	bit 6 speed  u16 Speed
//	bit 7 new    the entity is not in the baseline: start from an all-zero entity;
//	             u16 Machine, u8 Team (the entity's identity, in new records only: an
//	             entity whose Machine or Team changes is removed and new again in one
//	             snapshot)
//
// Head is coded against the heading the velocity points to ([HeadingOf]: integer
// CORDIC, which clients compute exactly so): entities mostly face where they go, so
// the difference is a few steps where the heading itself is any of 256 (0.63 → 0.34
// bytes per record on a world of 2,000 players walking where their inputs say).
//
// Why Rice codes: the values of a column are mostly small (position deltas of a few
// hundred steps, small animation ids, velocity bytes) with a long tail, which byte
// columns spend whole bytes on and zstd (no entropy coding of a few hundred bytes
// pays for its tables) cannot squeeze. On the shard's world (BenchmarkBroadcastShard,
// 2,100 scripted players) a record took 10.5 bytes in version 2's byte columns with
// RLE and takes 6.7 now; walkers (BenchmarkBroadcastSteady) 7.1 → 5.1 bytes, so a
// 376-byte snapshot carries 51 instead of 33 records, 67 instead of 48.
//
// Applying: copy the baseline table; merge the snapshots the merge bits name (see
// "Merging"); drop each removed id (it must be held); for each record, start from the
// held entity (which must exist) or, with bit 7, from zero with its Machine and Team
// (it must not be held: removed first if it was), and apply the groups present.
// Groups absent keep their values. A record may have no group
// (the value changed and changed back): it still counts as written by this snapshot.
// A snapshot whose baseline or merged snapshots the client does not hold is dropped;
// the client keeps acking what it holds and the server falls back to an acked baseline
// or a full snapshot.
//
// # Merging
//
// Each entity of a table remembers the id of the snapshot whose record wrote its value
// ("seen"), and each table the ids its own snapshot's records wrote. Merging snapshot m
// into the table being built: for every entity m's records wrote, if the table does
// not hold it, or holds it with a seen older than m (serial-number order), take m's
// value (and seen = m). Merges apply the oldest snapshot first (the result does not
// depend on the order). Removals are not merged. Consecutive snapshots usually name
// the same baseline and merges, plus newer ones: [Decoder] keeps the last merged
// baseline it built and merges only what it lacks (and takes out what a merged
// snapshot no longer named wrote, the way the server does, below).
//
// A client keeps the tables of the last KeepTables (32) snapshot ids, and one more:
// the baseline that the newest snapshot it applied names, when that baseline's slot
// is reused. So a baseline may be up to MaxBaseDistance (62) snapshots old, while the
// snapshots merged are at most 31 older.
//
// Why: every snapshot is a delta against a baseline the client acked, and acks take a
// round trip. With acks L snapshots late, the L snapshots in flight share a baseline
// and only one of them can become the next one; without merging, the records of the
// other L−1 never reached the client's baseline and were sent again (half the
// bandwidth on a LAN, two thirds at a 150 ms RTT and 20 Hz). The server adopts the
// newest acked snapshot encoded against the current baseline (it knows that client
// table exactly: the baseline, the merges that snapshot named, its records) and names
// every other acked snapshot in the next snapshots until one naming it is adopted. Its
// own view of the client's table has the merged snapshots merged at once, so encoding
// a snapshot costs no more than without merging. With acks more than about 10
// snapshots late, a merged snapshot falls out of the client's reach (31 snapshots)
// before a snapshot naming it is adopted: the server takes its values out of its view
// (back to the baseline's or another merged snapshot's; it keeps the view's baseline
// apart for this), stops naming it, and still adopts a snapshot in flight that named
// it. When no snapshot can be adopted for 62 snapshots (acks stopped, or about 30
// late), or a value to go back to is older than the frame ring, the view starts
// over: the next snapshot is full. Acks up to 17
// snapshots late (850 ms at 20 Hz) keep every snapshot a delta (TestLateAcks); before
// this, from 11 on a client got the whole world again every few seconds. Measured with version 2's byte columns (BenchmarkBroadcast, 2,100 walking entities, 2,000
// clients, 400-byte snapshots, acks 1 to 4 snapshots late): 39 instead of 25 records
// per snapshot, 9.4 instead of 14.9 bytes per record, entities near the client resent
// within 59 instead of 99 snapshots; with acks one snapshot late
// (BenchmarkBroadcastSteady) 35 instead of 33 records and 9.7 instead of 10.6 bytes.
//
// # Entity record (quantization, see [Entity] and [Quantizer])
//
//	X, Y     round(pos·65535/arena) — 3.9 mm steps on a 256 m arena
//	Head     round(angle/256) mod 256
//	VX, VY   clamp(round(vel/64 mm/s), −127, 127)
//	Machine, State, Clip, PrevClip: animation resource ids; Speed: per-mille, clamped
//	TimeRef  (clip time − elapsed(tick)) mod P, in ms, where elapsed(tick) =
//	         tick·(1e6/rate)·Speed/1000 µs mod 65536 s, and P is the clip's period
//	         if it loops (its length, twice that for ping-pong: the animation
//	         resources, which clients share, say which) or else 65536 ms: constant
//	         while a clip plays at a constant speed, across its loops too, so steady
//	         animations cost nothing; [TimeAt] inverts it. (Taken mod 65536 ms
//	         instead, a looping clip's TimeRef changed at every loop: 63% of the
//	         records of a world of walking entities carried it, 1.3 bytes each.)
//	Fade     0, or 1 + 254·FadeLeft/FadeTotal during a crossfade
//	Team     the player's team
//
// # State hash ("NQH1")
//
// mix(h, w) = (x ^ x>>31)·0x9e3779b97f4a7c15 with x = h ^ w, and fmix64 the MurmurHash3
// 64-bit finalizer (all arithmetic mod 2^64; >> is a logical shift: in GDScript mask
// after shifting negative values). An entity's hash folds four words into
// h = 0x243f6a8885a308d3 with mix, then applies fmix64:
//
//	w0 = id | X<<32 | Y<<48
//	w1 = Machine | State<<16 | Clip<<32 | PrevClip<<48
//	w2 = TimeRef | Head<<16 | u8(VX)<<24 | u8(VY)<<32 | Fade<<40 | Team<<48 | (Speed&255)<<56
//	w3 = Speed>>8
//
// The table hash is fmix64(S + n) with S the wrapping sum of the entity hashes and n the
// entity count: independent of order, and maintained incrementally by both sides.
//
// # Art upload and fetch
//
// Canvases (uploaded artwork standing on the arena) use the messages below, all on the
// reliable channel, all only from a playing (welcomed) client. Hashes are SHA-256 of the
// image bytes; sizes are bytes. Chunks carry at most MaxChunk = 1024 bytes.
//
//	UploadBegin (0x03, client → server), 38 bytes
//	  0  u8   type
//	  1  u32  total size (≥ 1; the server's limit, default 8 MiB)
//	  5  32   SHA-256 of the whole image
//	  37 u8   content type: 1 PNG, 2 JPEG
//	UploadChunk (0x04, client → server), 7 + n bytes
//	  0  u8   type
//	  1  u32  offset of the data in the image
//	  5  u16  n (1..1024), then n bytes
//	FetchArt (0x05, client → server), 33 bytes: u8 type, 32 SHA-256
//
//	UploadAck (0x14, server → client), 37 bytes: u8 type, 32 SHA-256, u32 bytes received
//	UploadDone (0x15, server → client), 41 bytes
//	  0  u8   type
//	  1  32   SHA-256
//	  33 u32  canvas id (≥ 1)
//	  37 u16  width, u16 height (pixels)
//	UploadError (0x16) / FetchError (0x19) (server → client), 36 + len bytes
//	  0  u8   type
//	  1  32   SHA-256 concerned (zeros if none)
//	  33 u16  code ([ArtCode]): 1 too large, 2 not an image, 3 too many pixels,
//	          4 hash mismatch, 5 busy, 6 protocol, 7 timed out, 8 internal,
//	          9 not found, 10 placement refused, 11 no art store
//	  35 u8   text length (≤ 255), then UTF-8 text
//	CanvasInfo (0x17, server → client), 67 bytes
//	  0  u8   type
//	  1  u32  canvas id (≥ 1)
//	  5  u32  owner NetID (the uploader at placement)
//	  9  i32  X, µm      13 i32 Y, µm
//	  17 u16  heading (binary angle)
//	  19 u64  tick of placement
//	  27 32   art SHA-256
//	  59 u16  width, u16 height (pixels, 1..8192)
//	  63 u32  bytes of the art in the server's store (0: not held)
//	ArtChunk (0x18, server → client), 43 + n bytes
//	  0  u8   type
//	  1  32   SHA-256
//	  33 u32  total size (≥ 1)
//	  37 u32  offset
//	  41 u16  n (1..1024, offset + n ≤ total), then n bytes
//
// Upload: the client sends UploadBegin and waits for the UploadAck that answers it: its
// Received is where to continue (0 for a new upload; for a client that reconnects with
// the same client id and begins the same hash again, the bytes kept from before). It
// then sends UploadChunks in order from there, keeping at most a window (64 KiB) beyond
// the newest UploadAck; the server acks every 8 KiB and at the end. A chunk whose offset
// is below what the server holds is skipped (its new tail kept); one past it is a
// protocol error. When all bytes are in, the server checks the SHA-256, that the image
// is a PNG or JPEG of the declared type whose header decodes (image.DecodeConfig), and
// its pixel bounds; it stores it and places a canvas at the uploader's position with
// ecs.CmdPlaceCanvas; UploadDone follows the step that placed it, and every playing
// client gets the new canvas's CanvasInfo. An upload the server already holds completes
// at the Begin without any chunk. Any failure ends the upload with an UploadError and
// discards its bytes (hash mismatch, type or pixel checks, timeouts); a failed or
// abandoned upload leaves nothing in the store.
//
// Fetch: FetchArt(hash) is answered by ArtChunks covering the image in order, or a
// FetchError (9 not found, 5 busy when the client has too many fetches queued). The
// server streams a bounded number of bytes per client per tick.
//
// # Failover addresses
//
// A shard followed by shadow shards (package shard/shadow) tells its clients where to go
// if it dies: the Welcome's shadow addresses, and a ShadowList whenever the set of
// shadows changes (a shadow joined or left, or a planned hand-over puts its successor
// first). Addresses are the shadows' client-facing "host:port", highest take-over rank
// first; a client that loses its shard reconnects to them in that order with the same
// connect token (the shadows share the primary's key).
//
//	ShadowList (0x1A, server → client, reliable), 2 + Σ(1+len) bytes (≤ 262)
//	  0  u8   type
//	  1  u8   address count (≤ 4), then per address: u8 len (1..64), UTF-8 bytes
//
// # Load relief (redirect)
//
// A shard that already serves its limit of clients itself (shardsim serve
// --max-local-clients) sends a newly admitted client a Redirect to a shadow shard that
// relays (shardsim shadow --relay) instead of a Welcome, and disconnects it after a
// short grace. The client connects there with the same connect token; the shadow
// forwards its join and inputs to the shard over the sync link and sends it snapshots
// of its own verified copy of the world, so the simulation stays single while the
// snapshot fan-out spreads over processes.
//
//	Redirect (0x1B, server → client, reliable), 2 + len bytes (≤ 66)
//	  0  u8   type
//	  1  u8   address length (1..64), then the UTF-8 "host:port"
//
// # Cell streams (protocol version 5)
//
// A client whose Hello says version 5 gets cell-snapshot messages instead of
// snapshots; every other message is as in version 4. The world's interest grid
// ([CellSize] cells) is read with a hysteresis, the stream cells: an entity stays in the
// cell it was in at the previous frame until it is more than [CellMargin] (12 m) outside
// it. A client holds, per stream cell, copies: the cell's entities as of a snapshot
// that carried it, the last [CellCopies] (32) such snapshots it applied. A snapshot
// carries whole cells, each as a block coded against one copy the client holds (the
// newest one the server saw acked, if the server has sent the cell fewer than
// CellCopies times since) or against nothing; applying a block to that copy gives
// the cell's entities in the snapshot's frame, exactly. So a block is the same for
// every client that holds the same copy: the server codes it once per frame and copies
// it. For clients to hold the same copies they send the cells on one schedule: the
// own cell (of the client's entity) in every snapshot, a cell within [NearRadius] when
// (snapshot id + cell index) is a multiple of [CellPeriod] (3), a cell r > NearRadius
// cells away (Chebyshev, r capped at 8) when it is a multiple of CellPeriod·r²; a cell
// that does not fit the client's byte budget (as in version 4) waits for its next turn.
//
//	Cell snapshot (0x1C, server → client), at most MaxPacket = 1200 bytes
//	  0  u8   type
//	  1  u32  snapshot id (≠ 0): the frame it shows
//	  5  u64  server tick
//	  13 u64  table hash ("State hash") of the entities of the cells the snapshot
//	          carries, as the client holds them after applying it
//	  21 u32  payload size (uncompressed, ≤ MaxPayload)
//	  25 …    one zstd frame of the payload, as in version 4
//
// The payload is a parameter section, then the blocks one after another, in ascending
// cell order, to its end:
//
//	parameter section, 7 bytes: 14 Rice parameters of 4 bits (low nibble first): the
//	  lists of removed ids, record ids, mask ranks, and columns 0..10 (the records that
//	  are not new), which every block of the snapshot uses
//	block: uvarint cell gap (cell index − previous block's − 1; the first block's from
//	  −1), uvarint distance d (0: against no copy; else against the copy of snapshot
//	  id − d), then a snapshot payload ("Snapshot payload") padded to a byte, with
//	  three differences: the parameters of the lists above are not sent (the section's
//	  are used), masks are coded as their index in the common order (no dictionary:
//	  the rank list codes maskIndex), and the record ids are coded against the copy's
//	  entities (ascending): a bit per entity of the copy (1: it has a record), then the
//	  ids of the records of other entities (entities new to the cell) as gaps, with the
//	  record count telling how many. The prediction-scale bit refers to the copy's
//	  snapshot; every record's age is the snapshot's id less the copy's.
//
// A removal must name an entity of the copy, a record that is not new an entity of the
// copy; the copy's entities without a record keep their values. The blocks' payloads
// end where their bits do: a decoder reads a block, rounds up to a byte, and reads the
// next header.
//
// # Interest management and budget
//
// Every entity that differs from the client's baseline gains priority each snapshot it
// is not sent: 1 + 64/(1+r²) with r its distance in [CellSize] (16 m) grid cells
// (Chebyshev) from the client's own entity, ×4 if the client does not hold it yet; sent
// entities restart from 0. The own entity is always sent first when it changed; then
// removals; then entities by priority, as many as fit the view's token bucket
// (BytesPerSnapshot per snapshot, default 400, at most MaxPacket; net/server sets it so
// that snapshots with their ENet and Godot framing stay within 64 kbit/s: 376 at 20 Hz).
//
// The per-client work does not grow with the world: [FrameRing.Capture] indexes each
// frame once for all clients (entities by cell, the frame since which each entity is
// unchanged, the entities that changed in this frame), and a snapshot examines only the
// entities in the cells within [NearRadius] of the client's entity, the next
// 1/[SweepPeriod] of the NetID range (so every entity at least once per SweepPeriod
// snapshots), the best candidates the previous snapshot left unsent, and, in a quiet
// frame, every entity that changed in it. Priority accumulates lazily: an entity
// examined m snapshots after the last time gains m times its weight. Removals are found
// on bitmaps, all at once. An entity still differing [StaleLimit] snapshots after it was
// last sent (or last found current) goes before every entity that is not overdue, the
// most overdue first: far entities are refreshed within about StaleLimit + SweepPeriod
// snapshots whenever the budget carries more records than entities fall overdue.
package game
