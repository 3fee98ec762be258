package game

// The heading a velocity points to predicts an entity's heading (most entities face
// where they go), so a record carries the difference (see doc.go, "Snapshot payload").
// Clients must compute the prediction exactly as the server does: cordicHeading is
// integer-only and specified by its code; headings holds it for every velocity.

// cordicAtan[i] is atan(2^−i) in units of 1/65536 turn, rounded.
var cordicAtan = [14]int32{8192, 4836, 2555, 1297, 651, 326, 163, 81, 41, 20, 10, 5, 3, 1}

// cordicHeading returns the binary angle (256 = a full turn, 0 = +X, 64 = +Y) of the
// velocity (vx, vy), within one step of round(atan2(vy, vx)·256/2π); 0 for (0, 0).
// CORDIC in vectoring mode: the vector is turned by ±atan(2^−i) towards the X axis,
// and the turns add up to its angle.
func cordicHeading(vx, vy int8) uint8 {
	x, y := int32(vx), int32(vy)
	if x == 0 && y == 0 {
		return 0
	}
	var a int32 // 1/65536 turn
	if x < 0 {
		x, y, a = -x, -y, 32768
	}
	x, y = x<<16, y<<16
	for i, t := range cordicAtan {
		if y > 0 {
			x, y, a = x+y>>i, y-x>>i, a+t
		} else {
			x, y, a = x-y>>i, y+x>>i, a-t
		}
	}
	return uint8((a + 128) >> 8)
}

// headings[uint8(vx)][uint8(vy)] is cordicHeading(vx, vy).
var headings = func() *[256][256]uint8 {
	var h [256][256]uint8
	for x := range 256 {
		for y := range 256 {
			h[x][y] = cordicHeading(int8(x), int8(y))
		}
	}
	return &h
}()

// HeadingOf returns the binary angle (256 = a full turn, 0 = +X, 64 = +Y) that the
// quantized velocity (vx, vy) points to, within one step of the true angle (0 for a
// standing entity): the prediction a snapshot's Head is coded against. Clients that
// decode snapshots compute it exactly so (integer CORDIC, see cordicHeading).
func HeadingOf(vx, vy int8) uint8 { return headings[uint8(vx)][uint8(vy)] }
