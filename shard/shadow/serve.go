package shadow

import (
	"fmt"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
)

// ServeSync opens a sync port for shadows on addr and chains its [Primary.OnTick] into
// cfg.OnTick, its [Primary.Bind] into cfg.OnSessions and its [Primary.TakeRelayed] into
// cfg.Inject (after any already set), with cfg.Systems as the keyframes' tuning; unless
// cfg.Server.Redirect is set, redirected clients (cfg.Server.MaxLocalClients) go to the
// relaying shadows in turn ([Primary.NextRelay]).
// Call it before shard.StartLive(*cfg). An empty addr does nothing. The returned stop
// closes the port; it is never nil.
func ServeSync(cfg *shard.LiveConfig, addr string, logf func(format string, args ...any)) (p *Primary, stop func() error, err error) {
	if addr == "" {
		return nil, func() error { return nil }, nil
	}
	p, err = NewPrimary(addr, PrimaryOptions{Systems: cfg.Systems, Logf: logf})
	if err != nil {
		return nil, nil, fmt.Errorf("shadow sync port: %w", err)
	}
	if prev := cfg.OnTick; prev != nil {
		cfg.OnTick = func(w *ecs.World, cmds []ecs.Command, hash uint64) {
			prev(w, cmds, hash)
			p.OnTick(w, cmds, hash)
		}
	} else {
		cfg.OnTick = p.OnTick
	}
	if prev := cfg.OnSessions; prev != nil {
		cfg.OnSessions = func(b []server.Binding) {
			prev(b)
			p.Bind(b)
		}
	} else {
		cfg.OnSessions = p.Bind
	}
	if prev := cfg.Inject; prev != nil {
		cfg.Inject = func(cmds []ecs.Command) []ecs.Command { return p.TakeRelayed(prev(cmds)) }
	} else {
		cfg.Inject = p.TakeRelayed
	}
	if cfg.Server.Redirect == nil {
		cfg.Server.Redirect = p.NextRelay
	}
	return p, p.Close, nil
}
