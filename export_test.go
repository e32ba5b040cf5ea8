package shm

// Sleepers returns how many lock operations of m are in their slow path
// with a word registered for Close to wake (asleep in the kernel or about
// to be). Tests only.
func Sleepers(m *Mapping) int {
	m.mu.RLock()
	r := m.reg
	m.mu.RUnlock()
	if r == nil {
		return 0
	}
	return r.Sleepers()
}
