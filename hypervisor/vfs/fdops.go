package vfs

import "golang.org/x/sys/unix"

// Dup installs f's description at the lowest free descriptor >= min.
func (t *FDTable) Dup(fd, min int, cloexec bool) (int, unix.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, e := t.get(fd)
	if e != 0 {
		return -1, e
	}
	if min < 0 || min >= t.limit() {
		return -1, unix.EINVAL
	}
	return t.install(f, min, cloexec)
}

// Dup2 makes newfd refer to fd's description, closing what newfd held.
func (t *FDTable) Dup2(fd, newfd int, cloexec bool) (int, unix.Errno) {
	t.mu.Lock()
	f, e := t.get(fd)
	if e != 0 {
		t.mu.Unlock()
		return -1, e
	}
	if newfd < 0 || newfd >= t.limit() {
		t.mu.Unlock()
		return -1, unix.EBADF
	}
	if fd == newfd {
		t.mu.Unlock()
		return newfd, 0
	}
	for len(t.fds) <= newfd {
		t.fds = append(t.fds, fdEntry{})
	}
	old := t.fds[newfd].f
	t.set(newfd, f, cloexec)
	t.mu.Unlock()
	if old != nil {
		t.drop(old)
	}
	return newfd, 0
}

// Cloexec reports and SetCloexec sets FD_CLOEXEC of fd.
func (t *FDTable) Cloexec(fd int) (bool, unix.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, e := t.get(fd); e != 0 {
		return false, e
	}
	return t.fds[fd].cloexec, 0
}

func (t *FDTable) SetCloexec(fd int, on bool) unix.Errno {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, e := t.get(fd); e != 0 {
		return e
	}
	t.fds[fd].cloexec = on
	return 0
}

// CloseOnExec closes every descriptor marked FD_CLOEXEC (execve).
func (t *FDTable) CloseOnExec() { t.closeIf(func(_ int, e fdEntry) bool { return e.cloexec }) }

// Max is the table's limit now (RLIMIT_NOFILE).
func (t *FDTable) Max() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limit()
}
