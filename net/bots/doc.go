// Package bots is a load tool: it runs many [client.Client]s against a shard, as
// players would, and reports how the shard served them.
//
// [Run] connects [Config].Clients bots gradually over [Config].Ramp, each with its own
// connect token minted from the server's key (bots run next to the server) and its own
// Godot id. Each bot wanders: a new seeded random input every 1–3 s. After
// [Config].Duration it closes them all and returns a [Report]: clients connected and
// failed (with reasons), per-client snapshots/s and downstream and upstream bytes/s,
// the snapshot delivery ratio (by snapshot id gaps, and against the announced rate),
// RTT percentiles and loss. [Config].Progress sees a [Progress] once per second.
package bots
