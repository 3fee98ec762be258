package game

import "encoding/binary"

// appendRawFrame appends to dst a zstd frame (RFC 8878) holding src in raw blocks,
// with runs of 8 or more equal bytes in RLE blocks (4 bytes each): what a zstd encoder
// produces for data without matches, at a fraction of the cost of looking for them
// (a payload's runs of zero bits are such runs, rarely more). The frame
// carries the content size and no content checksum (the state hash of the snapshot
// checks what the payload decodes to). Every zstd decoder reads it
// (Godot's PoolByteArray.decompress, klauspost/compress). src must be at most 65791
// bytes (a 2-byte frame content size; MaxPayload is smaller).
func appendRawFrame(dst, src []byte) []byte {
	n := len(src)
	dst = binary.LittleEndian.AppendUint32(dst, 0xFD2FB528) // magic
	// Frame header descriptor: single segment (no window descriptor), no content
	// checksum, content size in 1 byte (n < 256) or 2 bytes (n − 256).
	if n < 256 {
		dst = append(dst, 1<<5, byte(n))
	} else {
		dst = append(dst, 1<<6|1<<5)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n-256))
	}
	last := -1 // offset of the last block header written
	lit := 0   // start of the bytes not written yet
	for i := 0; i < n; {
		// Skip 8 positions at a time where no byte equals the next one (a run of
		// minRun bytes needs such pairs): Rice codes rarely repeat a byte.
		for i+9 <= n {
			x := binary.LittleEndian.Uint64(src[i:]) ^ binary.LittleEndian.Uint64(src[i+1:])
			if (x-0x0101010101010101)&^x&0x8080808080808080 != 0 {
				break // some byte equals the next one
			}
			i += 8
		}
		if i >= n {
			break
		}
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
	return dst
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
const rawFrameOverhead = 4 + 3 + 3
