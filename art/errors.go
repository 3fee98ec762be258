package art

import "errors"

// Errors returned by the store. Match them with [errors.Is]; they come wrapped with
// context.
var (
	// ErrTooLarge: the declared size is 0 or above Options.MaxSize, or data goes past it.
	ErrTooLarge = errors.New("art: too large")
	// ErrNotImage: the bytes are not a PNG or JPEG (of the declared type) whose header
	// decodes.
	ErrNotImage = errors.New("art: not a PNG or JPEG image")
	// ErrTooManyPixels: a side above Options.MaxSide or an area above Options.MaxPixels.
	ErrTooManyPixels = errors.New("art: too many pixels")
	// ErrHashMismatch: the bytes do not hash to the declared SHA-256.
	ErrHashMismatch = errors.New("art: content hash mismatch")
	// ErrBusy: too many partial uploads, or too many declared bytes in them.
	ErrBusy = errors.New("art: too many uploads in progress")
	// ErrNotFound: no art with this hash.
	ErrNotFound = errors.New("art: not found")
	// ErrOffset: data for an offset past the bytes received so far.
	ErrOffset = errors.New("art: chunk offset past the data received")
	// ErrClosed: the partial was committed, aborted or swept.
	ErrClosed = errors.New("art: upload no longer open")
)
