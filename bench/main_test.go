package bench_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no scenario leaves a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
