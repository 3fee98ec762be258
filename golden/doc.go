// Package golden holds the golden replay scenarios and their recordings (testdata/*.replay).
//
// Each [Scenario] is defined in Go here, so regenerating every file is one command
// (`go test ./golden -update`, or `make golden`); `go test ./golden` re-simulates every
// file and fails naming the first divergent tick, entity and field. Together the
// scenarios cover every system: a 2,000-player crowd, wall and corner contact at high
// speed, every animation state and transition, join/leave churn with recycled ids,
// game-state transitions including a rejected one, and a long idle stretch then a burst.
package golden
