// Package art is the content-addressed store of uploaded artwork: images (PNG or JPEG)
// kept under a data directory by the hex SHA-256 of their bytes, the bytes the world's
// canvases ([ecs.Art]) refer to.
//
// A [Store] holds finished art under objects/ab/abcdef… and unfinished uploads
// ([Partial]) in tmp/. An upload is written to a partial file keyed by its owner (the
// uploader's client id) and hash, so a client that reconnects can resume it
// ([Store.Begin] returns the partial with the bytes already received). [Partial.Commit]
// checks the hash, the image type (image.DecodeConfig) and the pixel bounds, fsyncs the
// file and renames it into objects/: a finished object is never half-written. Every
// failure removes the partial file; [Store.Sweep] removes partials idle past
// Options.Timeout; [Store.Open] of a directory removes partial files a crash left behind.
// The number and declared bytes of partials are bounded.
//
// Errors have identity ([ErrTooLarge], [ErrNotImage], [ErrTooManyPixels],
// [ErrHashMismatch], [ErrBusy], [ErrNotFound], [ErrOffset]); match them with errors.Is.
package art
