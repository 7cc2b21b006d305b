package ami

// LogSinkStats exposes the exact counters of the manager's bounded log
// handler (internal/logsink) to the black-box tests: records produced,
// handed to the sink, and dropped. ManagerStats only carries the drops.
func (m *Manager) LogSinkStats() (produced, delivered, dropped uint64) {
	s := m.sink.Stats()
	return s.Produced, s.Delivered, s.Dropped
}
