package soak_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the fake PBXs when the binary is re-executed as the soak's
// child process, and the tests (with a goroutine-leak check) otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runPBXs(os.Stdin, os.Stdout))
	}
	goleak.VerifyTestMain(m)
}
