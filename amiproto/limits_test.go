package amiproto_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

func TestDefaultLimits(t *testing.T) {
	d := amiproto.DefaultLimits()
	if d.MaxFrameSize != 1<<20 || d.MaxBufferSize != 2<<20 || d.MaxOutputSize != 1<<20 {
		t.Fatalf("defaults %+v", d)
	}
	if (amiproto.Limits{}).WithDefaults() != d {
		t.Fatal("WithDefaults of zero differs from DefaultLimits")
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (amiproto.Limits{}).Validate(); err != nil {
		t.Fatalf("zero limits (defaults) invalid: %v", err)
	}
	// A larger frame limit raises the default buffer.
	l := amiproto.Limits{MaxFrameSize: 4 << 20}.WithDefaults()
	if l.MaxBufferSize != 8<<20 || l.Validate() != nil {
		t.Fatalf("4 MiB frames: %+v %v", l, l.Validate())
	}
	// Explicit fields are kept.
	l = amiproto.Limits{MaxFrameSize: 100 << 10, MaxBufferSize: 300 << 10, MaxOutputSize: 5 << 10}.WithDefaults()
	if l.MaxFrameSize != 100<<10 || l.MaxBufferSize != 300<<10 || l.MaxOutputSize != 5<<10 {
		t.Fatalf("explicit values changed: %+v", l)
	}
}

func TestLimitsValidate(t *testing.T) {
	cases := []struct {
		l        amiproto.Limits
		field    string
		min, max int
	}{
		{amiproto.Limits{MaxFrameSize: 1000}, "MaxFrameSize", 64 << 10, 4 << 20},
		{amiproto.Limits{MaxFrameSize: 5 << 20}, "MaxFrameSize", 64 << 10, 4 << 20},
		{amiproto.Limits{MaxFrameSize: -1}, "MaxFrameSize", 64 << 10, 4 << 20},
		{amiproto.Limits{MaxBufferSize: 512 << 10}, "MaxBufferSize", 1 << 20, 64 << 20},
		{amiproto.Limits{MaxFrameSize: 2 << 20, MaxBufferSize: 1 << 20}, "MaxBufferSize", 2 << 20, 64 << 20},
		{amiproto.Limits{MaxBufferSize: 65 << 20}, "MaxBufferSize", 1 << 20, 64 << 20},
		{amiproto.Limits{MaxOutputSize: 1023}, "MaxOutputSize", 1 << 10, 64 << 20},
		{amiproto.Limits{MaxOutputSize: 65 << 20}, "MaxOutputSize", 1 << 10, 64 << 20},
	}
	for _, tc := range cases {
		err := tc.l.Validate()
		var le *amiproto.LimitError
		if !errors.As(err, &le) || !errors.Is(err, amiproto.ErrInvalidLimit) {
			t.Fatalf("%+v: err %v", tc.l, err)
		}
		if le.Field != tc.field || le.Min != tc.min || le.Max != tc.max {
			t.Fatalf("%+v: got %+v, want field %s %d..%d", tc.l, le, tc.field, tc.min, tc.max)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "ami: ") || !strings.Contains(msg, tc.field) {
			t.Fatalf("error text %q", msg)
		}
		if _, perr := amiproto.NewParser(tc.l); !errors.As(perr, &le) {
			t.Fatalf("NewParser(%+v) accepted invalid limits: %v", tc.l, perr)
		}
	}
	for _, ok := range []amiproto.Limits{
		{MaxFrameSize: amiproto.MinMaxFrameSize, MaxBufferSize: amiproto.MinMaxFrameSize, MaxOutputSize: amiproto.MinMaxOutputSize},
		{MaxFrameSize: amiproto.MaxMaxFrameSize, MaxBufferSize: amiproto.MaxMaxBufferSize, MaxOutputSize: amiproto.MaxMaxOutputSize},
	} {
		if err := ok.Validate(); err != nil {
			t.Fatalf("%+v: %v", ok, err)
		}
		p, err := amiproto.NewParser(ok)
		if err != nil || p.Limits() != ok {
			t.Fatalf("NewParser(%+v) = %v", ok, err)
		}
	}
}
