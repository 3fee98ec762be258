// Package ecs holds a shard's world state on the archetype ECS
// [github.com/mlange-42/arche]: the component types (all fixed-point integers, see
// components.go for units), the world's global resources (tick, arena, seeded PRNG, session
// phase), the canonical binary snapshot ([World.AppendSnapshot], [Decode], [Restore]) and
// the state hash ([Hash]).
//
// A [World] indexes its player entities by a stable [NetID]. Everything that must be
// reproducible walks entities in NetID order or combines per-entity results with an
// order-free operation, so two worlds with the same content snapshot and hash the same even
// when arche stores their entities in a different order (as after a restore).
//
// The package imports nothing else of shardsim (see DESIGN.md, "Layout").
package ecs
