// Package client is a Go game client for a shardsim shard that speaks exactly what a
// stock Godot 3.2 client speaks: an ENet connection with 3 channels whose connect data
// is the client's Godot unique id (>= 2), Godot 3 framing on channels 1 and 2
// (package godot), and the game protocol of package game in raw-bytes payloads.
//
// [Dial] connects, sends the connect token as the first raw message on the reliable
// channel (the token's text bytes, as the Godot client's send_bytes does) and returns
// once the server's Welcome arrived, or with an error that says why not: a [*KickError]
// (matching [ErrKicked]) with the server's [game.Reason], [ErrTimeout] or [ErrRefused].
//
// A [Client] then runs on one goroutine that services its ENet host: it applies every
// snapshot to its entity table with a [game.Decoder], and once per server tick (the rate
// announced in the Welcome) sends an Input message carrying its newest snapshot ack and
// its last few inputs with sequence numbers, unreliably, as Godot's
// TRANSFER_MODE_UNRELIABLE does. [Client.SetInput] changes the input, [Client.Table]
// reads the table, [Client.Stats] gives the counters (snapshots, bytes, RTT, loss) and
// [Client.Close] disconnects. [Client.Done] and [Client.Err] report a session that the
// server ended (a kick or a disconnect).
//
// With [Options].Cells the client opens its session with a Hello of protocol version 5
// instead of its bare token and gets cell streams, which a [game.CellDecoder] applies
// and hash-checks (it keeps copies of cells, not a table: [Client.Table] gives nil).
//
// Art: [Client.Upload] sends an image (PNG or JPEG) in 1 KiB chunks on the reliable
// channel, a window ahead of the server's acks, and returns the canvas placed for it
// ([UploadResult]); after a reconnect with the same client id it resumes where the
// server's copy ends. [Client.Canvases] and [Options.OnCanvas] report the canvases the
// server announces; [Client.Fetch] downloads an image by hash. Refusals are
// [*ArtError]s (matching [ErrArt]) with the server's [game.ArtCode].
//
// A shard that serves its limit of clients itself may answer the token with a Redirect
// (package game) to a relaying shadow shard: the client then connects there with the
// same token, before Dial returns, and counts it in [Stats.Redirects].
//
// The transport is a UDP socket by default, or any [enet.Transport] given in
// [Options.Transport], such as a conn of package enettest's in-memory network.
package client
