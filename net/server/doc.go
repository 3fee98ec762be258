// Package server is the network front of a live shard: an ENet host ([enet.Host]) that
// stock Godot clients connect to with NetworkedMultiplayerENet, Godot's multiplayer
// framing ([godot.Codec]) and the game protocol ([game]).
//
// A [Server] is driven from the shard's single goroutine, once per tick:
//
//	cmds = srv.Poll(cmds[:0])        // admissions, inputs, leaves → ecs commands
//	res := sim.Step(world, cmds)
//	srv.Joined(res.Joined, world)    // bind sessions to their entities, send Welcome (+ canvases)
//	srv.Placed(res.Placed, world)    // UploadDone to uploaders, CanvasInfo to everyone
//	srv.Broadcast(world)             // one quantized frame, a delta snapshot per client
//
// Admission: a client's first raw message must be its connect token ([game.MintToken]),
// either as the token text's exact bytes or wrapped in a [game.HelloMsg], within
// Config.HelloTimeout of connecting; otherwise it is kicked with a reason and
// disconnected. Anything that does not parse is dropped and counted ([Stats]), never
// trusted; a client that keeps sending garbage is kicked.
//
// Snapshots: a client whose Hello says [game.CellProtocolVersion] gets cell streams
// ([game.CellEncoder], one per encode worker, the clients of neighbouring cells on the
// same worker so that they share blocks); the others, bare tokens included, get
// per-client deltas ([game.Encoder]). Both come from the same frame.
//
// Sessions: one session per token client id. A client id that connects again while
// its session plays replaces it (the old one is kicked with game.ReasonReplaced) and
// keeps its entity; Config.Sessions hands the entities of an earlier server of the same
// world (a promoted shadow shard) to their clients as they reconnect, and removes those
// not claimed within Config.SessionGrace. [Server.TakeBindings] reports the changes of
// the session map, for shadow shards.
//
// Art (Config.Art, an [art.Store]): a playing client uploads an image in chunks on the
// reliable channel (game.UploadBegin/UploadChunk, acked with UploadAck); once complete
// and checked, Poll issues ecs.CmdPlaceCanvas for it and [Server.Placed] answers
// UploadDone after the step. Uploads are keyed by the token's client id and hash, so a
// client that reconnects resumes. FetchArt requests are streamed back as ArtChunks,
// at most Config.FetchBytesPerTick per client per Poll. See net/game/doc.go, "Art upload
// and fetch", for the protocol.
package server
