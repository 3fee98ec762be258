package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this binary as the "shardsim" command of the scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"shardsim": main})
}

// TestScripts runs testdata/script/*.txtar: the real CLI, its output and exit codes.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
