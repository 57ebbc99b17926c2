package vfs_test

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

func ioctlU32(t *testing.T, f vfs.File, req uint64) uint32 {
	t.Helper()
	b := make([]byte, 4)
	if e := f.Ioctl(req, b); e != 0 {
		t.Fatalf("ioctl %#x: %v", req, e)
	}
	return binary.LittleEndian.Uint32(b)
}

// A pty's life in the run's devpts: numbered from 0 in the run, locked
// until unlocked, listed while its master is open, gone after; data and
// settings pass through the host's pty.
func TestDevpts(t *testing.T) {
	ns := run(t, nil, 0)
	m0 := mustOpen(t, ns, user, "/dev/ptmx", unix.O_RDWR, 0)
	m1 := mustOpen(t, ns, user, "/dev/ptmx", unix.O_RDWR, 0)
	if n0, n1 := ioctlU32(t, m0, unix.TIOCGPTN), ioctlU32(t, m1, unix.TIOCGPTN); n0 != 0 || n1 != 1 {
		t.Fatalf("pty numbers %d, %d; want the run's own 0, 1", n0, n1)
	}
	if got := names(t, ns, "/dev/pts"); got != ". .. ptmx 0 1" {
		t.Errorf("/dev/pts lists %q", got)
	}
	if _, e := ns.Open(user, ns.Root(), "/dev/pts/1", unix.O_RDWR, 0); e != unix.EIO {
		t.Errorf("open of a locked pty: %v, want EIO", e)
	}
	zero := make([]byte, 4)
	if e := m1.Ioctl(unix.TIOCSPTLCK, zero); e != 0 {
		t.Fatal(e)
	}
	s1 := mustOpen(t, ns, user, "/dev/pts/1", unix.O_RDWR, 0)
	var st abi.Stat
	if e := s1.Stat(&st); e != 0 || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 136<<8|1 || st.Uid != user.UID || st.Gid != 5 {
		t.Errorf("slave stat %+v, %v", st, e)
	}
	if _, e := m1.Write([][]byte{[]byte("hi\n")}, -1); e != 0 {
		t.Fatal(e)
	}
	buf := make([]byte, 16)
	b := s1.File.(vfs.Blocking)
	if n, e := b.ReadWait([][]byte{buf}, -1, false, nil); e != 0 || string(buf[:n]) != "hi\n" {
		t.Errorf("slave read %q, %v", buf[:n], e)
	}
	// Settings made through the slave are the host pty's: the master sees them.
	ws := make([]byte, 8)
	binary.LittleEndian.PutUint16(ws, 33)
	if e := s1.Ioctl(unix.TIOCSWINSZ, ws); e != 0 {
		t.Fatal(e)
	}
	got := make([]byte, 8)
	if e := m1.Ioctl(unix.TIOCGWINSZ, got); e != 0 || binary.LittleEndian.Uint16(got) != 33 {
		t.Errorf("window rows through the master: %d, %v", binary.LittleEndian.Uint16(got), e)
	}
	// Requests of the other side, or naming processes, do not reach the host.
	for _, req := range []uint64{unix.TIOCGPTN, unix.TIOCSPTLCK, unix.TIOCSCTTY, unix.TIOCSPGRP, unix.TIOCSTI} {
		if e := s1.Ioctl(req, make([]byte, 8)); e != unix.ENOTTY {
			t.Errorf("slave ioctl %#x: %v, want ENOTTY", req, e)
		}
	}
	s1.Close()
	m1.Close()
	if _, e := ns.Lookup(user, ns.Root(), "/dev/pts/1", true); e != unix.ENOENT {
		t.Errorf("/dev/pts/1 after its master closed: %v", e)
	}
	m2 := mustOpen(t, ns, user, "/dev/ptmx", unix.O_RDWR, 0)
	if n := ioctlU32(t, m2, unix.TIOCGPTN); n != 1 {
		t.Errorf("a new pty took %d, want the freed 1", n)
	}
	m2.Close()
	m0.Close()
	// Without a controlling terminal, /dev/tty is ENXIO.
	if _, e := ns.Open(user, ns.Root(), "/dev/tty", unix.O_RDWR, 0); e != unix.ENXIO {
		t.Errorf("/dev/tty with no controlling terminal: %v", e)
	}
}
