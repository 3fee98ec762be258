// Package shadow keeps hot standby copies of a live shard ("shadow shards") verified
// tick by tick, and promotes one of them when the primary dies or hands over.
//
// # Sync
//
// A [Primary] opens a sync port (ENet, one reliable ordered channel) next to the shard's
// client port; [Primary.OnTick] is the shard's shard.LiveConfig.OnTick ([ServeSync]
// wires it up). For every step it sends each attached shadow a [Tick] (the applied
// commands and the state hash after the step; it doubles as the heartbeat), and a
// [Keyframe] (zstd-compressed ecs snapshot plus systems tuning) to a newly joined shadow
// at the next tick and to all every KeyframeEvery ticks (default 300). OnTick never
// blocks the shard goroutine: it encodes into pooled buffers and hands them to a sync
// goroutine; when that one is behind, the tick is dropped, counted, and a keyframe
// follows at once.
//
// A [Shadow] says [Hello] (protocol version, rank, client-facing address), restores the
// keyframe (replay.LoadWorld), steps the same ticks with the received commands, and
// compares its hash with the primary's for every tick. A mismatch is logged with its
// tick and counted; at the next keyframe the shadow, stepped to the same tick, names the
// first differing entity and field (replay.DiffStates of the keyframe against its own
// state, see [Divergence]) and resyncs from that keyframe. A shadow with more than
// MaxBacklog ticks waiting drops them and catches up from the next keyframe; a gap in
// the tick numbers does the same. Messages from any peer but the current primary are
// dropped and counted (a [Promote] is the one exception, see below).
//
// The wire format is documented in msg.go; every message has an Append method and a
// ParseX function that checks every length and never panics.
//
// # Take-over rule
//
// The primary sends every shadow the [Roster] (ranks, client and sync addresses) whenever
// it changes; ranks are unique (a duplicate Hello is refused). When a shadow has heard
// nothing from its primary for Timeout × (1 + h), where h is the number of roster
// entries with a higher rank than its own, it promotes itself, provided it is eligible:
// it holds a world that followed the primary without an unresolved mismatch. So the
// highest rank alive goes first, after one Timeout; each lower rank waits one more
// Timeout per higher rank. A promoted shadow starts shard.StartLive with its world
// (Initial) on its client address, serves shadows on its existing sync host, and dials
// every other shadow in the roster to send a [Promote]. A shadow accepts a Promote (and
// follows its sender as its new primary) once its own primary has been silent for at
// least Timeout/2 or has disconnected, or at once if a [HandOver] named the sender; it
// then keeps its world if it is at the Promote's tick and in sync (the new primary's
// ticks continue it, verified by hash), and otherwise resyncs from the new primary's
// keyframe, sent as soon as its Hello arrives (the new shard does not wait for its
// shadows, so a follower whose Hello lands after the first promoted tick counts a gap
// and resyncs there). Because the lower ranks wait at least one Timeout longer than the
// announcement needs, two shadows that both see the primary die do not both promote.
// The rule has no quorum: a network partition that hides a live primary from its
// shadows can still produce two primaries.
//
// A planned hand-over ([Primary.HandOver], after the shard stopped stepping) sends a
// final keyframe to all, then a HandOver naming a rank; that shadow promotes at once at
// the final tick and the others follow its Promote.
//
// # Clients
//
// The primary's clients are told the shadows' client addresses, highest rank first:
// [Primary.WatchRoster] with [ClientAddrs] feeds shard.Live.SetShadows, so newly welcomed
// clients get the current list in their Welcome and playing clients get a ShadowList
// (package game) whenever the roster changes. A shadow binds its client port when it
// starts ([Shadow.ClientAddr]), so the announced address is real from the first Hello
// and clients that fail over before the take-over completes wait in its queue. A
// promoted shard announces the shadows that follow it the same way. Clients of package
// net/client with Options.Failover reconnect in that order, with the same token, when
// their shard falls silent, disconnects or kicks them with ReasonShutdown.
//
// # Sessions
//
// The primary's session map (token client id → NetID of the client's entity) travels
// with the ticks: the shard reports its changes (shard.LiveConfig.OnSessions, fed by
// server.Server.TakeBindings: a binding when a session is welcomed, its end when the
// session's CmdLeave is issued) to [Primary.Bind], which sends them as a [Sessions]
// message right after the step's Tick; every keyframe is followed by the whole map. A
// shadow applies them in stream order with the ticks, so at every tick it holds the map
// as the primary had it after that tick ([ShadowStats].Sessions). A promoted shard
// starts its server with that map (server.Config.Sessions): a client that presents a
// valid token for a client id in it takes its old entity over (no CmdJoin; a Welcome
// with the same NetID; its inputs drive the entity from the input it had), and the
// entity of a client that does not come back within ShadowOptions.SessionGrace
// (default the server's InputTimeout) is removed by a CmdLeave issued through the step,
// so recordings and the new primary's own shadows see it. A live server does the same
// for a client id that connects again while its session still plays (it failed over
// and came back, or a second device): the new session replaces the old one, which is
// kicked with ReasonReplaced, and keeps the entity.
//
// # Load relief: relaying shadows
//
// A primary under load can hand a share of its clients to shadows, which then send those
// clients their snapshots (fan-out relays): the network work spreads over processes
// while the simulation stays single. A shadow with ShadowOptions.Relay serves clients on
// its client address while it is still a shadow and says so with an empty [Relay] right
// after its Hello. A primary whose server has MaxLocalClients sessions
// (server.Config.MaxLocalClients; [ServeSync] points server.Config.Redirect at
// [Primary.NextRelay], which takes the relaying shadows in turn) answers a newly
// admitted client with a game Redirect to such a shadow instead of joining it, and
// disconnects it after server.KickGrace; the client connects there with the same token
// (net/client follows it and counts Stats.Redirects).
//
// The relaying shadow admits the client by token (the same key), numbers its session
// in its rank's range (server.RelaySessionBase: 1<<31 | rank<<23 | n, disjoint from the
// primary's own sessions and the other relays') and sends the primary what its clients
// do as [Relay] messages: the CmdJoin with that session as Arg, each changed input as
// CmdInput, and CmdLeave, exactly the commands a shard's server issues. The primary
// checks them (a join in the sender's range, inputs and leaves of an entity, nothing
// else) and queues them for its next step ([Primary.TakeRelayed], shard.LiveConfig.Inject),
// so they are applied, recorded and carried to every shadow by that step's [Tick] like
// the primary's own commands: determinism is untouched. When the shadow steps that Tick,
// the join's reference is its session, so its front welcomes the client with the NetID
// the step gave it and from then on, after every tick it steps, sends its clients
// snapshots of its own verified world at its SnapshotRate.
//
// Limits: a relayed client's session is not in the primary's session map (a promoted
// shadow gives it a new entity when it comes back); a relaying shadow that takes over
// closes its relay front first, and its clients fail over like the primary's; the
// entities of a relay that vanishes stay until their leaves arrive (never, if it died),
// and a relay that is not synced when its clients' join arrives leaves them waiting.
//
// A planned hand-over from the CLI: SIGUSR1 to "shardsim serve --shadow-addr ..." (with
// --handover-rank N, default the highest rank attached) announces the successor first,
// stops the shard after its current tick (the recording ends there), disconnects the
// clients, and calls [Primary.HandOver]: no tick is lost, and clients are back within
// a few hundred milliseconds.
//
// # Demo
//
//	shardsim serve --addr 127.0.0.1:7777 --shadow-addr 127.0.0.1:7800 --record primary.replay --record-flush-every 1 &
//	shardsim shadow --primary 127.0.0.1:7800 --addr 127.0.0.1:7778 --rank 2 &
//	shardsim shadow --primary 127.0.0.1:7800 --addr 127.0.0.1:7779 --rank 1 &
//	# load relief instead: serve --max-local-clients 25 ... and shadow --relay ...;
//	# clients beyond 25 are redirected to the relaying shadows
//	shardsim bots --server 127.0.0.1:7777 --clients 50 --duration 60s &
//	kill -KILL %1   # rank 2 prints "promoted: tick=T hash=H ..." about 1 s later;
//	                # the bots report "failover: 50 reconnects by 50 bots, ..."
//	shardsim verify primary.replay   # the killed primary's recording verifies (truncated)
//
// The same key file must be used by serve, the shadows and the token issuer (default:
// server.key under the user config directory; --key-file otherwise). Measured by
// cmd/shardsim TestFailoverProof (2 shadows, 50 bots, -race, 2 cores): the promoted
// shard's first tick about 1.0 s after SIGKILL (SLO 2 s), 0 ticks lost with
// --record-flush-every 1, every bot back after about 1.1 s, and the promotion hash equal
// to a re-simulation of the killed primary's recording.
//
// # What a take-over loses
//
// A shadow steps a tick only once it holds that tick's complete command list, so the
// promoted shard continues from the last Tick message it received: the primary's ticks
// whose Tick message had not reached it (normally none or one: the message leaves within
// one ENet service slice, ~5 ms, of the step) are lost, together with the client
// inputs the primary had received but not yet applied. Clients then see at most
// Timeout × (1 + h) of silence plus those few ticks rolled back.
package shadow
