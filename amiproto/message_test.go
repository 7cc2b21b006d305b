package amiproto_test

import (
	"slices"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

func TestKindString(t *testing.T) {
	want := map[amiproto.Kind]string{
		amiproto.KindUnknown: "Unknown", amiproto.KindBanner: "Banner", amiproto.KindResponse: "Response",
		amiproto.KindFollows: "Follows", amiproto.KindEvent: "Event", amiproto.KindAction: "Action",
		amiproto.Kind(42): "Kind(42)",
	}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), s)
		}
	}
}

func TestMessageAccessors(t *testing.T) {
	m := &amiproto.Message{Kind: amiproto.KindEvent, Headers: []amiproto.Header{
		{Key: "Event", Value: "VarSet"},
		{Key: "ActionID", Value: "a1"},
		{Key: "Variable", Value: "A"},
		{Key: "variable", Value: "B"},
		{Key: "Empty", Value: ""},
		{Key: "ACTIONID", Value: "a2"},
	}}
	if m.Get("event") != "VarSet" || m.Get("EVENT") != "VarSet" || m.Name() != "VarSet" {
		t.Fatal("case-insensitive Get")
	}
	if m.ActionID() != "a1" {
		t.Fatalf("ActionID = %q", m.ActionID())
	}
	if v, ok := m.Lookup("empty"); !ok || v != "" {
		t.Fatal("Lookup of an empty value")
	}
	if v, ok := m.Lookup("missing"); ok || v != "" {
		t.Fatal("Lookup of a missing key")
	}
	if got := m.Values("VARIABLE"); !slices.Equal(got, []string{"A", "B"}) {
		t.Fatalf("Values = %q", got)
	}
	if m.Values("missing") != nil {
		t.Fatal("Values of a missing key is not nil")
	}
	if m.Get("Eventx") != "" || m.Get("Even") != "" {
		t.Fatal("prefix match")
	}
}

func TestMessageName(t *testing.T) {
	cases := []struct {
		m    amiproto.Message
		want string
	}{
		{amiproto.Message{Kind: amiproto.KindBanner, Banner: "Asterisk Call Manager/13.0.0"}, "13.0.0"},
		{amiproto.Message{Kind: amiproto.KindBanner, Banner: "Asterisk Call Manager"}, ""},
		{amiproto.Message{Kind: amiproto.KindAction, Headers: []amiproto.Header{{Key: "Action", Value: "Ping"}}}, "Ping"},
		{amiproto.Message{Kind: amiproto.KindResponse, Headers: []amiproto.Header{{Key: "Response", Value: "Goodbye"}}}, "Goodbye"},
		{amiproto.Message{Kind: amiproto.KindFollows, Headers: []amiproto.Header{{Key: "Response", Value: "follows"}}}, "Follows"},
		{amiproto.Message{Kind: amiproto.KindEvent, Headers: []amiproto.Header{{Key: "Response", Value: "Success"}, {Key: "Event", Value: "OriginateResponse"}}}, "OriginateResponse"},
		{amiproto.Message{Kind: amiproto.KindUnknown, Headers: []amiproto.Header{{Key: "Foo", Value: "bar"}}}, ""},
	}
	for _, tc := range cases {
		if got := tc.m.Name(); got != tc.want {
			t.Errorf("%s: Name() = %q, want %q", msgString(&tc.m), got, tc.want)
		}
	}
}

func TestMessageCloneAndReset(t *testing.T) {
	m := &amiproto.Message{Kind: amiproto.KindFollows,
		Headers: []amiproto.Header{{Key: "Response", Value: "Follows"}},
		Output:  []string{"a", "b"}}
	c := m.Clone()
	m.Headers[0].Value = "changed"
	m.Output[0] = "changed"
	if c.Headers[0].Value != "Follows" || c.Output[0] != "a" || c.Kind != amiproto.KindFollows {
		t.Fatalf("clone shares memory: %s", msgString(c))
	}
	m.Reset()
	if m.Kind != amiproto.KindUnknown || len(m.Headers) != 0 || len(m.Output) != 0 || m.Banner != "" {
		t.Fatalf("Reset left %s", msgString(m))
	}
	var nilMsg *amiproto.Message
	if nilMsg.Clone() != nil {
		t.Fatal("Clone of nil")
	}
	if e := (&amiproto.Message{}).Clone(); e.Headers != nil || e.Output != nil {
		t.Fatal("Clone of empty allocates slices")
	}
}
