package amiprom

import (
	"slices"
	"strings"
)

// Other is the label value used for names outside the bounded sets.
const Other = "other"

var defaultEventNames = []string{
	// call lifecycle
	"Newchannel", "Newstate", "Newexten", "NewCallerid", "NewConnectedLine", "NewAccountCode",
	"DialBegin", "DialEnd", "DialState", "Hangup", "HangupRequest", "SoftHangupRequest",
	"OriginateResponse", "VarSet", "Rename", "LocalBridge", "LocalOptimizationBegin", "LocalOptimizationEnd",
	"BridgeCreate", "BridgeDestroy", "BridgeEnter", "BridgeLeave", "BridgeMerge",
	"Hold", "Unhold", "MusicOnHoldStart", "MusicOnHoldStop", "DTMFBegin", "DTMFEnd",
	"AttendedTransfer", "BlindTransfer", "Cdr", "CEL", "UserEvent", "AMDStatus",
	"AsyncAGIStart", "AsyncAGIExec", "AsyncAGIEnd", "AGIExecStart", "AGIExecEnd",
	// queues and agents
	"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "QueueMemberAdded", "QueueMemberRemoved",
	"QueueMemberPause", "QueueMemberStatus", "QueueMemberPenalty", "QueueMemberRinginuse",
	"AgentCalled", "AgentConnect", "AgentComplete", "AgentDump", "AgentRingNoAnswer", "AgentLogin", "AgentLogoff",
	// devices and endpoints
	"PeerStatus", "ContactStatus", "DeviceStateChange", "ExtensionStatus", "PresenceStateChange", "Registry",
	// system and security
	"FullyBooted", "Shutdown", "Reload", "SuccessfulAuth", "ChallengeSent", "InvalidPassword",
	"InvalidAccountID", "FailedACL", "ChallengeResponseFailed", "RequestBadFormat",
	// list items and completions
	"CoreShowChannel", "CoreShowChannelsComplete", "Status", "StatusComplete", "QueueParams", "QueueMember",
	"QueueEntry", "QueueStatusComplete", "QueueSummary", "QueueSummaryComplete", "EndpointList",
	"EndpointListComplete", "EndpointDetail", "EndpointDetailComplete",
}

var defaultActionNames = []string{
	"Login", "Logoff", "Challenge", "Ping", "Events", "Originate", "Hangup", "Redirect", "SetVar", "GetVar",
	"Command", "CoreShowChannels", "Status", "QueueStatus", "QueueSummary", "QueueAdd", "QueueRemove",
	"QueuePause", "PJSIPShowEndpoint", "PJSIPShowEndpoints", "ExtensionState", "UserEvent",
	"Atxfer", "BlindTransfer", "Bridge", "CoreStatus", "CoreSettings", "DBGet", "DBPut", "DBDel",
	"Getvar", "ListCommands", "MixMonitor", "StopMixMonitor", "Monitor", "StopMonitor", "PlayDTMF",
	"QueuePenalty", "QueueReload", "Reload", "SIPpeers", "SIPshowpeer", "Setvar", "AGI", "Park",
}

// outcomes are the documented ami.Metrics ActionDone outcomes.
var outcomes = [...]string{"success", "error", "timeout", "connection_lost", "closed", "protocol"}

// DefaultEventNames returns the event names exported by default as the
// "event" label: the call lifecycle, queues and agents, devices, system and
// security events and the usual list items.
func DefaultEventNames() []string { return slices.Clone(defaultEventNames) }

// DefaultActionNames returns the action names exported by default as the
// "action" label: the typed actions of package ami and common others.
func DefaultActionNames() []string { return slices.Clone(defaultActionNames) }

// nameSet maps a name, in any case, to its canonical label value.
type nameSet struct {
	exact map[string]string // as written, for the allocation-free fast path
	lower map[string]string // lower-cased
}

func newNameSet(names []string) nameSet {
	s := nameSet{exact: make(map[string]string, len(names)), lower: make(map[string]string, len(names))}
	for _, n := range names {
		if n == "" {
			continue
		}
		if _, dup := s.lower[strings.ToLower(n)]; dup {
			continue // first spelling wins ("Setvar" after "SetVar")
		}
		s.exact[n] = n
		s.lower[strings.ToLower(n)] = n
	}
	return s
}

// label returns the canonical spelling of name, or Other.
func (s nameSet) label(name string) string {
	if v, ok := s.exact[name]; ok {
		return v
	}
	if v, ok := s.lower[strings.ToLower(name)]; ok {
		return v
	}
	return Other
}
