package systems

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shardsim/shardsim/systems/anim"
)

// Tuning encoding (replay headers carry it, so a replay re-simulates with the tuning it
// was recorded with): version byte 1, then WalkSpeed, RunSpeed, Accel, Friction, Brake as
// little-endian int32 and MinPlayers as u16. The animation library is code and is covered
// by SimVersion.
const tuningVersion = 1

// TuningSize is the length of an encoded tuning.
const TuningSize = 1 + 5*4 + 2

// ErrTuning is wrapped by every tuning decode error.
var ErrTuning = errors.New("bad systems tuning")

// AppendTuning appends the encoded tunables of c to b.
func (c *Config) AppendTuning(b []byte) []byte {
	b = append(b, tuningVersion)
	for _, v := range [...]int32{c.WalkSpeed, c.RunSpeed, c.Accel, c.Friction, c.Brake} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return binary.LittleEndian.AppendUint16(b, uint16(c.MinPlayers))
}

// ParseTuning decodes a tuning into a configuration with the default animation library,
// and validates it.
func ParseTuning(b []byte) (Config, error) {
	if len(b) != TuningSize {
		return Config{}, fmt.Errorf("systems: %w: %d bytes, want %d", ErrTuning, len(b), TuningSize)
	}
	if b[0] != tuningVersion {
		return Config{}, fmt.Errorf("systems: %w: version %d, want %d", ErrTuning, b[0], tuningVersion)
	}
	i32 := func(i int) int32 { return int32(binary.LittleEndian.Uint32(b[1+4*i:])) }
	c := Config{
		Lib:        anim.DefaultLibrary(),
		WalkSpeed:  i32(0),
		RunSpeed:   i32(1),
		Accel:      i32(2),
		Friction:   i32(3),
		Brake:      i32(4),
		MinPlayers: int(binary.LittleEndian.Uint16(b[21:])),
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%w (%w)", err, ErrTuning)
	}
	return c, nil
}
