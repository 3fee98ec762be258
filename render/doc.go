// Package render draws a replay as pictures: the arena seen from above, players as dots
// coloured by animation state, canvases as thumbnails of their art (from an [art.Store]
// when it holds the bytes, else a framed placeholder showing the hash prefix).
//
// The replay is re-simulated with the code [replay.Verify] uses (the recorded
// tuning, the initial snapshot, [systems.Sim.Step] with the recorded commands), so a
// picture shows exactly the recorded world. [GIF] writes an animated GIF with a fixed
// palette ([Palette]); [Strip] a PNG of N frames side by side; [Frames] hands each
// frame to a function.
package render
