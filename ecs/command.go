package ecs

// CommandKind says what a [Command] does.
type CommandKind uint8

// Command kinds. Values are part of the replay and network formats: never renumber.
const (
	// CmdInput sets player Player's current input to Input.
	CmdInput CommandKind = 1
	// CmdJoin spawns a new network player. The step assigns the lowest free NetID;
	// Arg is an opaque reference chosen by the caller (e.g. a session id) that the step
	// reports back with the id it assigned.
	CmdJoin CommandKind = 2
	// CmdLeave removes player Player; its NetID becomes free for reuse.
	CmdLeave CommandKind = 3
	// CmdGameState asks for a transition of the session's game state to phase Arg.
	CmdGameState CommandKind = 4
	// CmdPlaceCanvas places the uploaded artwork Art as a canvas at player Player's
	// position (see [World.PlaceCanvas]).
	CmdPlaceCanvas CommandKind = 5

	// CmdLast is the highest command kind this build knows.
	CmdLast = CmdPlaceCanvas
)

// Valid reports whether k is a command kind this build knows.
func (k CommandKind) Valid() bool { return k >= CmdInput && k <= CmdLast }

// Art references an uploaded image by content: its SHA-256 and its pixel size. Worlds,
// snapshots and replays hold the reference, never the bytes.
type Art struct {
	Hash          [32]byte
	Width, Height uint16
}

// IsZero reports whether a is the zero reference (no art).
func (a *Art) IsZero() bool { return *a == Art{} }

// Command is one applied input of a tick: what replays record and shadows receive.
// Commands of a tick are applied in the order given, before the systems run.
type Command struct {
	Kind   CommandKind
	Player NetID
	Input  Input
	Arg    uint32
	Art    Art // CmdPlaceCanvas only
}
