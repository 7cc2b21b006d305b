package amitest_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"

	"github.com/apntalk/ami/amitest"
)

// BenchmarkFlood measures the events per second Flood pushes to one
// loopback client that only counts bytes.
func BenchmarkFlood(b *testing.B) {
	s := amitest.NewServer(b, amitest.Options{})
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	if _, err := io.WriteString(nc, "Action: Login\r\nUsername: admin\r\nSecret: admin-secret\r\n\r\n"); err != nil {
		b.Fatal(err)
	}
	if err := s.Ready(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	drained := make(chan int64)
	go func() {
		var n int64
		buf := make([]byte, 256<<10)
		for {
			k, err := nc.Read(buf)
			n += int64(bytes.Count(buf[:k], []byte("\r\n\r\n")))
			if err != nil {
				drained <- n
				return
			}
		}
	}()
	b.ResetTimer()
	sent, err := s.Flood(context.Background(), amitest.Flood{Count: b.N})
	b.StopTimer()
	if err != nil || sent != b.N {
		b.Fatalf("Flood = %d, %v", sent, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	s.Close()
	<-drained
}
