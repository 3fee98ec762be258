package golden

import (
	"os"
	"testing"

	"github.com/shardsim/shardsim/replay"
)

// BenchmarkVerifyCrowd measures `verify` on the 2,000-player golden replay: ticks
// re-simulated and checked per second, and the replay's size per tick (hashes and
// keyframes amortised; the target is ≤ 2 KB/tick).
func BenchmarkVerifyCrowd(b *testing.B) {
	sc, _ := Lookup("crowd")
	st, err := os.Stat(path(sc.Name))
	if err != nil {
		b.Fatal(err)
	}
	r, closer, err := replay.OpenFile(path(sc.Name))
	if err != nil {
		b.Fatal(err)
	}
	defer closer.Close()
	b.ReportAllocs()
	var ticks uint64
	for b.Loop() {
		rep, err := replay.Verify(r, replay.VerifyOptions{})
		if err != nil || !rep.OK {
			b.Fatalf("verify: %v %+v", err, rep)
		}
		ticks += rep.Ticks
	}
	b.ReportMetric(float64(ticks)/b.Elapsed().Seconds(), "ticks/s")
	b.ReportMetric(float64(st.Size())/float64(sc.Ticks), "bytes/tick")
}
