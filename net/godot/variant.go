package godot

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// The variant types this package encodes and decodes, as Go values:
//
//	Godot            Go
//	null             nil
//	bool             bool
//	int              int64 (int and int32 also encode)
//	float / real     float64 (float32 also encodes)
//	String           string
//	Vector2          Vector2
//	Vector3          Vector3
//	PoolByteArray /
//	PackedByteArray  []byte
//	Array            Array ([]any also encodes)
//	Dictionary       Dictionary
//
// Decoding always yields the first Go type of each row.

// Vector2 is Godot's Vector2 in its standard single-precision build.
type Vector2 struct{ X, Y float32 }

// Vector3 is Godot's Vector3 in its standard single-precision build.
type Vector3 struct{ X, Y, Z float32 }

// Array is a Godot Array (untyped).
type Array []any

// Dictionary is a Godot Dictionary. Godot dictionaries keep insertion order,
// and so does this slice; decoding keeps duplicate keys as they came (Godot
// would keep the last one).
type Dictionary []KeyValue

// KeyValue is one Dictionary entry.
type KeyValue struct{ Key, Value any }

// MaxDepth bounds how deeply Arrays and Dictionaries may nest, for both
// encoding and decoding.
const MaxDepth = 64

// typeIDs maps the supported kinds to a version's Variant::Type values.
type typeIDs struct {
	nil, bool, int, float, string, vector2, vector3, dictionary, array, bytes uint32
}

var (
	// core/variant.h (3.2): NIL, BOOL, INT, REAL, STRING, VECTOR2, RECT2,
	// VECTOR3, ..., DICTIONARY = 18, ARRAY = 19, POOL_BYTE_ARRAY = 20.
	ids3 = typeIDs{0, 1, 2, 3, 4, 5, 7, 18, 19, 20}
	// core/variant/variant.h (4.x): ..., VECTOR2 = 5, VECTOR2I, RECT2, RECT2I,
	// VECTOR3 = 9, ..., DICTIONARY = 27, ARRAY = 28, PACKED_BYTE_ARRAY = 29.
	ids4 = typeIDs{0, 1, 2, 3, 4, 5, 9, 27, 28, 29}
)

func idsFor(v Version) *typeIDs {
	if v == V3 {
		return &ids3
	}
	return &ids4
}

const (
	headerTypeMask = 0xFF
	headerFlag64   = 1 << 16 // ENCODE_FLAG_64 / HEADER_DATA_FLAG_64
)

// AppendVariant appends x encoded as encode_variant (core/io/marshalls.cpp)
// of version v encodes it, which is what GDScript's var2bytes (Godot 3) and
// var_to_bytes (Godot 4) return: a u32 little-endian header (type id, plus
// bit 16 for an int outside int32 or a float that float32 cannot hold
// exactly), then the value, padded to a multiple of 4 bytes.
//
// It returns b unchanged and an error for a Go type outside the table above
// ([UnsupportedTypeError]), nesting deeper than [MaxDepth] ([ErrTooDeep]),
// an invalid UTF-8 string ([ErrUTF8]) or a length above int32 ([ErrCount]).
// It panics if v is not V3 or V4.
func AppendVariant(b []byte, v Version, x any) ([]byte, error) {
	if !v.Valid() {
		panic("godot: AppendVariant with unknown version")
	}
	out, err := appendVariant(b, v, idsFor(v), x, 0)
	if err != nil {
		return b, err
	}
	return out, nil
}

func appendU32(b []byte, u uint32) []byte { return binary.LittleEndian.AppendUint32(b, u) }

func appendF32(b []byte, f float32) []byte { return appendU32(b, math.Float32bits(f)) }

func appendPad(b []byte, n int) []byte {
	for ; n%4 != 0; n++ {
		b = append(b, 0)
	}
	return b
}

func appendVariant(b []byte, v Version, ids *typeIDs, x any, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, ErrTooDeep
	}
	switch x := x.(type) {
	case nil:
		return appendU32(b, ids.nil), nil
	case bool:
		b = appendU32(b, ids.bool)
		if x {
			return appendU32(b, 1), nil
		}
		return appendU32(b, 0), nil
	case int:
		return appendInt(b, ids, int64(x)), nil
	case int32:
		return appendInt(b, ids, int64(x)), nil
	case int64:
		return appendInt(b, ids, x), nil
	case float32:
		return appendFloat(b, ids, float64(x)), nil
	case float64:
		return appendFloat(b, ids, x), nil
	case string:
		if !utf8.ValidString(x) {
			return nil, ErrUTF8
		}
		if len(x) > math.MaxInt32 {
			return nil, ErrCount
		}
		b = appendU32(b, ids.string)
		b = appendU32(b, uint32(len(x)))
		b = append(b, x...)
		return appendPad(b, len(x)), nil
	case Vector2:
		b = appendU32(b, ids.vector2)
		b = appendF32(b, x.X)
		return appendF32(b, x.Y), nil
	case Vector3:
		b = appendU32(b, ids.vector3)
		b = appendF32(b, x.X)
		b = appendF32(b, x.Y)
		return appendF32(b, x.Z), nil
	case []byte:
		if len(x) > math.MaxInt32 {
			return nil, ErrCount
		}
		b = appendU32(b, ids.bytes)
		b = appendU32(b, uint32(len(x)))
		b = append(b, x...)
		return appendPad(b, len(x)), nil
	case Array:
		return appendArray(b, v, ids, x, depth)
	case []any:
		return appendArray(b, v, ids, x, depth)
	case Dictionary:
		if len(x) > math.MaxInt32 {
			return nil, ErrCount
		}
		b = appendU32(b, ids.dictionary)
		b = appendU32(b, uint32(len(x)))
		var err error
		for _, kv := range x {
			if b, err = appendVariant(b, v, ids, kv.Key, depth+1); err != nil {
				return nil, err
			}
			if b, err = appendVariant(b, v, ids, kv.Value, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, &UnsupportedTypeError{Version: v, GoType: fmt.Sprintf("%T", x)}
}

func appendArray(b []byte, v Version, ids *typeIDs, x []any, depth int) ([]byte, error) {
	if len(x) > math.MaxInt32 {
		return nil, ErrCount
	}
	b = appendU32(b, ids.array)
	b = appendU32(b, uint32(len(x)))
	var err error
	for _, e := range x {
		if b, err = appendVariant(b, v, ids, e, depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendInt: encode_variant uses 64 bits only when val > INT_MAX || val < INT_MIN.
func appendInt(b []byte, ids *typeIDs, x int64) []byte {
	if x > math.MaxInt32 || x < math.MinInt32 {
		b = appendU32(b, ids.int|headerFlag64)
		return binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	b = appendU32(b, ids.int)
	return appendU32(b, uint32(int32(x)))
}

// appendFloat: encode_variant uses a double when `double(float(d)) != d`,
// which also holds for NaN.
func appendFloat(b []byte, ids *typeIDs, x float64) []byte {
	if f := float32(x); float64(f) != x {
		b = appendU32(b, ids.float|headerFlag64)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	b = appendU32(b, ids.float)
	return appendF32(b, float32(x))
}

// ParseVariant decodes one variant from the start of b as decode_variant
// (core/io/marshalls.cpp) of version v does (bytes2var / bytes_to_var), and
// returns it with the number of bytes it used. It checks every length before
// reading, requires padding to be present, bounds counts by the bytes left
// (so a hostile count cannot make it allocate), limits nesting to
// [MaxDepth], and rejects types outside the table above, Godot 4 typed
// containers and double-precision vectors ([ErrVariantType],
// [ErrVariantFlags]). Strings and byte arrays are copied. It panics if v is
// not V3 or V4.
func ParseVariant(b []byte, v Version) (any, int, error) {
	if !v.Valid() {
		panic("godot: ParseVariant with unknown version")
	}
	x, end, err := parseVariant(b, 0, v, idsFor(v), 0)
	if err != nil {
		return nil, 0, err
	}
	return x, end, nil
}

func u32at(b []byte, p int) uint32 { return binary.LittleEndian.Uint32(b[p:]) }

func f32at(b []byte, p int) float32 { return math.Float32frombits(u32at(b, p)) }

// need checks that n more bytes follow position p.
func need(b []byte, p, n int) error {
	if n < 0 || len(b)-p < n {
		return at(p, ErrShort)
	}
	return nil
}

// parseVariant decodes the variant at b[p:] and returns the position after it.
func parseVariant(b []byte, p int, v Version, ids *typeIDs, depth int) (any, int, error) {
	if depth > MaxDepth {
		return nil, 0, at(p, ErrTooDeep)
	}
	if err := need(b, p, 4); err != nil {
		return nil, 0, err
	}
	header := u32at(b, p)
	typ, flags := header&headerTypeMask, header&^headerTypeMask
	start := p
	p += 4
	if flags != 0 && !(flags == headerFlag64 && (typ == ids.int || typ == ids.float)) {
		return nil, 0, at(start, ErrVariantFlags)
	}
	switch typ {
	case ids.nil:
		return nil, p, nil
	case ids.bool:
		if err := need(b, p, 4); err != nil {
			return nil, 0, err
		}
		return u32at(b, p) != 0, p + 4, nil
	case ids.int:
		if flags != 0 {
			if err := need(b, p, 8); err != nil {
				return nil, 0, err
			}
			return int64(binary.LittleEndian.Uint64(b[p:])), p + 8, nil
		}
		if err := need(b, p, 4); err != nil {
			return nil, 0, err
		}
		return int64(int32(u32at(b, p))), p + 4, nil
	case ids.float:
		if flags != 0 {
			if err := need(b, p, 8); err != nil {
				return nil, 0, err
			}
			return math.Float64frombits(binary.LittleEndian.Uint64(b[p:])), p + 8, nil
		}
		if err := need(b, p, 4); err != nil {
			return nil, 0, err
		}
		return float64(f32at(b, p)), p + 4, nil
	case ids.string:
		data, end, err := parseBytes(b, p)
		if err != nil {
			return nil, 0, err
		}
		if !validUTF8(data) {
			return nil, 0, at(p+4, ErrUTF8)
		}
		return string(data), end, nil
	case ids.vector2:
		if err := need(b, p, 8); err != nil {
			return nil, 0, err
		}
		return Vector2{f32at(b, p), f32at(b, p+4)}, p + 8, nil
	case ids.vector3:
		if err := need(b, p, 12); err != nil {
			return nil, 0, err
		}
		return Vector3{f32at(b, p), f32at(b, p+4), f32at(b, p+8)}, p + 12, nil
	case ids.bytes:
		data, end, err := parseBytes(b, p)
		if err != nil {
			return nil, 0, err
		}
		return append([]byte{}, data...), end, nil
	case ids.array:
		n, err := parseCount(b, p, 4)
		if err != nil {
			return nil, 0, err
		}
		p += 4
		a := make(Array, 0, n)
		for range n {
			var e any
			if e, p, err = parseVariant(b, p, v, ids, depth+1); err != nil {
				return nil, 0, err
			}
			a = append(a, e)
		}
		return a, p, nil
	case ids.dictionary:
		n, err := parseCount(b, p, 8)
		if err != nil {
			return nil, 0, err
		}
		p += 4
		d := make(Dictionary, 0, n)
		for range n {
			var kv KeyValue
			if kv.Key, p, err = parseVariant(b, p, v, ids, depth+1); err != nil {
				return nil, 0, err
			}
			if kv.Value, p, err = parseVariant(b, p, v, ids, depth+1); err != nil {
				return nil, 0, err
			}
			d = append(d, kv)
		}
		return d, p, nil
	}
	return nil, 0, at(start, &UnsupportedTypeError{Version: v, TypeID: typ})
}

// parseCount reads an Array/Dictionary count at b[p:]: Godot masks off bit 31
// (the old "shared" flag). Each element takes at least minSize bytes, which
// bounds the count by what is left.
func parseCount(b []byte, p, minSize int) (int, error) {
	if err := need(b, p, 4); err != nil {
		return 0, err
	}
	n := int(u32at(b, p) & 0x7FFFFFFF)
	if n > (len(b)-p-4)/minSize {
		return 0, at(p, ErrCount)
	}
	return n, nil
}

// parseBytes reads `u32 length, bytes, zero padding to 4` (_decode_string and
// POOL_BYTE_ARRAY) at b[p:]; the result aliases b.
func parseBytes(b []byte, p int) ([]byte, int, error) {
	if err := need(b, p, 4); err != nil {
		return nil, 0, err
	}
	n := int(int32(u32at(b, p)))
	if n < 0 {
		return nil, 0, at(p, ErrCount)
	}
	p += 4
	padded := n + (4-n%4)%4
	if err := need(b, p, padded); err != nil {
		return nil, 0, err
	}
	return b[p : p+n], p + padded, nil
}

func validUTF8(b []byte) bool { return utf8.Valid(b) }
