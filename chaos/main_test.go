package chaos_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any scenario leaves a goroutine behind: a
// manager, a fake PBX, a dial or a sink that outlives its test is a bug.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
