package game

import (
	"encoding/binary"
	"math/bits"
)

// appendRawFrame appends to dst a zstd frame (RFC 8878) holding src in raw blocks,
// with runs of 8 or more equal bytes in RLE blocks (4 bytes each): what a zstd encoder
// produces for data without matches, at a fraction of the cost of looking for them
// (the high-byte planes of small values and constant columns are such runs). The frame
// carries the content size and the content checksum. Every zstd decoder reads it
// (Godot's PoolByteArray.decompress, klauspost/compress). src must be at most 65791
// bytes (a 2-byte frame content size; MaxPayload is smaller).
func appendRawFrame(dst, src []byte) []byte {
	n := len(src)
	dst = binary.LittleEndian.AppendUint32(dst, 0xFD2FB528) // magic
	// Frame header descriptor: single segment (no window descriptor), content
	// checksum, content size in 1 byte (n < 256) or 2 bytes (n − 256).
	if n < 256 {
		dst = append(dst, 1<<5|1<<2, byte(n))
	} else {
		dst = append(dst, 1<<6|1<<5|1<<2)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n-256))
	}
	last := -1 // offset of the last block header written
	lit := 0   // start of the bytes not written yet
	for i := 0; i < n; {
		j := i + 1
		for j < n && src[j] == src[i] {
			j++
		}
		if j-i >= minRun {
			if lit < i { // never the last block: the RLE block follows
				dst = appendBlock(dst, blockRaw, i-lit)
				dst = append(dst, src[lit:i]...)
			}
			last = len(dst)
			dst = appendBlock(dst, blockRLE, j-i)
			dst = append(dst, src[i])
			lit = j
		}
		i = j
	}
	if lit < n || last < 0 {
		last = len(dst)
		dst = appendBlock(dst, blockRaw, n-lit)
		dst = append(dst, src[lit:]...)
	}
	dst[last] |= 1 // Last_Block
	return binary.LittleEndian.AppendUint32(dst, uint32(xxh64(src)))
}

// minRun is the shortest run worth an RLE block: the block (4 bytes) and the header of
// the raw block that resumes after it (3) must cost less than the run.
const minRun = 8

// Block types (RFC 8878, 3.1.1.2).
const (
	blockRaw = 0
	blockRLE = 1
)

// appendBlock appends a block header (not the last) of type typ for size regenerated
// bytes.
func appendBlock(dst []byte, typ, size int) []byte {
	h := uint32(typ)<<1 | uint32(size)<<3
	return append(dst, byte(h), byte(h>>8), byte(h>>16))
}

// rawFrameOverhead is what appendRawFrame adds to a payload of 256 bytes or more with no
// run of minRun equal bytes.
const rawFrameOverhead = 4 + 3 + 3 + 4

// XXH64 with seed 0, the zstd content checksum (its low 32 bits).
const (
	xxP1 uint64 = 11400714785074694791
	xxP2 uint64 = 14029467366897019727
	xxP3 uint64 = 1609587929392839161
	xxP4 uint64 = 9650029242287828579
	xxP5 uint64 = 2870177450012600261
)

func xxRound(acc, in uint64) uint64 {
	return bits.RotateLeft64(acc+in*xxP2, 31) * xxP1
}

func xxMerge(h, v uint64) uint64 {
	return (h^xxRound(0, v))*xxP1 + xxP4
}

func xxh64(b []byte) uint64 {
	n := len(b)
	var h uint64
	if n >= 32 {
		p1, p2 := xxP1, xxP2 // variables: the sums wrap
		v1, v2, v3, v4 := p1+p2, p2, uint64(0), -p1
		for ; len(b) >= 32; b = b[32:] {
			v1 = xxRound(v1, binary.LittleEndian.Uint64(b))
			v2 = xxRound(v2, binary.LittleEndian.Uint64(b[8:]))
			v3 = xxRound(v3, binary.LittleEndian.Uint64(b[16:]))
			v4 = xxRound(v4, binary.LittleEndian.Uint64(b[24:]))
		}
		h = bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) + bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
		h = xxMerge(h, v1)
		h = xxMerge(h, v2)
		h = xxMerge(h, v3)
		h = xxMerge(h, v4)
	} else {
		h = xxP5
	}
	h += uint64(n)
	for ; len(b) >= 8; b = b[8:] {
		h ^= xxRound(0, binary.LittleEndian.Uint64(b))
		h = bits.RotateLeft64(h, 27)*xxP1 + xxP4
	}
	if len(b) >= 4 {
		h ^= uint64(binary.LittleEndian.Uint32(b)) * xxP1
		h = bits.RotateLeft64(h, 23)*xxP2 + xxP3
		b = b[4:]
	}
	for _, c := range b {
		h ^= uint64(c) * xxP5
		h = bits.RotateLeft64(h, 11) * xxP1
	}
	h ^= h >> 33
	h *= xxP2
	h ^= h >> 29
	h *= xxP3
	h ^= h >> 32
	return h
}
