//go:build deps

// Package deps pins modules that packages still being written will import.
package deps

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/mlange-42/arche/ecs"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "golang.org/x/net/ipv4"
)
