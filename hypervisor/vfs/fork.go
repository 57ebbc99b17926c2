package vfs

// Fork copies the table for a child process: the same open file
// descriptions (offsets, flags) behind the same numbers, as fork(2) does.
// The child's Watch is set afterwards: it learns nothing of the copy.
func (t *FDTable) Fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &FDTable{fds: make([]fdEntry, len(t.fds)), max: t.max}
	for i, e := range t.fds {
		if e.f != nil {
			c.set(i, e.f, e.cloexec)
		}
	}
	return c
}
