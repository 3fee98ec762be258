// Package shard runs a shard: a world and its systems stepped at a fixed rate, fed by
// commands bound to ticks. [RunHeadless] runs one with scripted bots and no network, as
// fast as it can or in real time, reporting progress and a summary.
package shard
