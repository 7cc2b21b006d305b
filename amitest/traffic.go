package amitest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/apntalk/ami/amiproto"
)

// StartCalls simulates PBX traffic: it starts callsPerSecond fake calls per
// second, each a PJSIP agent dialling a number through the trunk with the
// full lifecycle (Newchannel, DialBegin, Newstate, DialEnd, Hangup,
// DeviceStateChange) over a few hundred milliseconds (see
// Options.TrafficCallDuration). About 75% of the calls are answered; the
// others end busy, unanswered or congested. The events go to every
// connection whose event mask has the call class, and the channels show in
// CoreShowChannels and Status while they live.
//
// stop stops starting calls and waits for the starting goroutine; calls in
// progress finish on their own (Close cuts them short). stop is idempotent.
// A rate <= 0, or a closed server, starts nothing.
func (s *Server) StartCalls(callsPerSecond float64) (stop func()) {
	if callsPerSecond <= 0 {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	started := s.goFunc(func(done <-chan struct{}) {
		defer close(finished)
		s.trafficLoop(done, quit, callsPerSecond)
	})
	if !started {
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-finished
	}
}

// trafficLoop starts calls on schedule until quit or done.
func (s *Server) trafficLoop(done, quit <-chan struct{}, rate float64) {
	interval := max(time.Duration(float64(time.Second)/rate), time.Millisecond)
	t := time.NewTicker(interval)
	defer t.Stop()
	start := time.Now()
	launched := 0
	for {
		due := int(time.Since(start).Seconds()*rate) + 1 // the first call starts at once
		for ; launched < due; launched++ {
			s.goFunc(func(done <-chan struct{}) { s.runTrafficCall(done) })
		}
		select {
		case <-quit:
			return
		case <-done:
			return
		case <-t.C:
		}
	}
}

// runTrafficCall plays one agent-to-customer call.
func (s *Server) runTrafficCall(done <-chan struct{}) {
	r := s.newCallRun(done)
	defer r.finish()
	mean := s.opts.TrafficCallDuration
	agent := fmt.Sprintf("100%d", 1+rand.IntN(3))
	number := fmt.Sprintf("5550%06d", rand.IntN(1000000))
	suffix := r.p.nextSuffix()

	a := r.p.addChannel(r.c, "PJSIP/"+agent+"-"+suffix, 4, "from-internal", number, nil)
	r.p.update(a, func(ch *channel) {
		ch.cidNum, ch.cidName, ch.connNum = agent, "Agent "+agent, number
		ch.app, ch.appData, ch.endpoint = "Dial", "PJSIP/"+number+"@trunk,30", agent
	})
	r.chanEvent("Newchannel", "call,all", a)
	b := r.p.addChannel(r.c, "PJSIP/trunk-"+r.p.nextSuffix(), 0, "from-internal", number, a)
	r.p.update(b, func(ch *channel) {
		ch.cidNum, ch.connNum, ch.connName = number, agent, "Agent "+agent
		ch.app, ch.appData, ch.endpoint = "AppDial", "(Outgoing Line)", "trunk"
	})
	r.chanEvent("Newchannel", "call,all", b)
	r.emit("DialBegin", "call,all", r.p.snapshot("", a), r.p.snapshot("Dest", b),
		[]amiproto.Header{H("DialString", number+"@trunk")})
	r.setState(b, 5)
	r.deviceState("PJSIP/"+agent, "INUSE")

	hungUp := r.wait(jitter(mean / 3))
	reason := reasonAnswered
	switch x := rand.IntN(100); {
	case hungUp:
		reason = reasonNoAnswer
	case x < 10:
		reason = reasonBusy
	case x < 20:
		reason = reasonNoAnswer
	case x < 25:
		reason = reasonCongestion
	}
	if reason != reasonAnswered {
		cause, status := reasonCause(reason)
		r.emit("DialEnd", "call,all", r.p.snapshot("", a), r.p.snapshot("Dest", b),
			[]amiproto.Header{H("DialStatus", status)})
		r.hangup(b, cause)
		r.hangup(a, cause)
		r.deviceState("PJSIP/"+agent, "NOT_INUSE")
		return
	}
	r.setState(b, 6)
	r.emit("DialEnd", "call,all", r.p.snapshot("", a), r.p.snapshot("Dest", b),
		[]amiproto.Header{H("DialStatus", "ANSWER")})
	r.setState(a, 6)
	r.wait(jitter(mean))
	r.hangup(b, 16)
	r.hangup(a, 16)
	r.deviceState("PJSIP/"+agent, "NOT_INUSE")
}

// jitter returns a random duration between d/2 and 3d/2.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d)
}
