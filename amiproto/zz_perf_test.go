package amiproto_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sort"
	"syscall"
	"testing"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/eventmix"
)

func cpuNow() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func TestZZPerf(t *testing.T) {
	if os.Getenv("ZZPERF") == "" {
		t.Skip()
	}
	runtime.GOMAXPROCS(1)
	stream := eventmix.Stream(benchEvents)
	p, _ := amiproto.NewParser(amiproto.Limits{})
	parse := func() {
		data := stream
		for len(data) > 0 {
			n, _ := p.Write(data[:min(64<<10, len(data))])
			data = data[n:]
			for {
				m, err := p.Next()
				if err != nil {
					t.Fatal(err)
				}
				if m == nil {
					break
				}
			}
		}
	}
	delim := []byte("\r\n\r\n")
	frame := func() {
		data := stream
		for {
			i := bytes.Index(data, delim)
			if i < 0 {
				break
			}
			data = data[i+4:]
		}
	}
	const reps = 20
	var pt, ft []float64
	for round := 0; round < 40; round++ {
		c := cpuNow()
		for range reps {
			parse()
		}
		pt = append(pt, float64(cpuNow()-c)/reps/benchEvents)
		c = cpuNow()
		for range reps {
			frame()
		}
		ft = append(ft, float64(cpuNow()-c)/reps/benchEvents)
	}
	var ratios []float64
	for i := range pt {
		ratios = append(ratios, pt[i]/ft[i])
	}
	med := func(x []float64) float64 { y := append([]float64(nil), x...); sort.Float64s(y); return y[len(y)/2] }
	mn := func(x []float64) float64 { y := append([]float64(nil), x...); sort.Float64s(y); return y[0] }
	fmt.Printf("parse med %.1f min %.1f | frame med %.1f min %.1f | ratio med %.2f minratio %.2f\n",
		med(pt), mn(pt), med(ft), mn(ft), med(ratios), mn(pt)/mn(ft))
}
