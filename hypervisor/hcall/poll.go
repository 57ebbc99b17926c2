package hcall

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/memory"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// poll (and through it ppoll, select, pselect6, done by the guest).

func init() {
	register(abi.HCPoll, call(abi.HCPoll, poll))
}

const (
	sizeofPollfd = 8
	alwaysReady  = unix.POLLIN | unix.POLLOUT | 0x40 | 0x100 // POLLRDNORM, POLLWRNORM
)

func poll(p *kernel.Task, m *memory.Memory, in abi.HCPollArgs, _ *abi.HCPollArgs) int64 {
	if in.Nfds > uint64(p.FDs.Max()) {
		return errRet(unix.EINVAL)
	}
	raw, err := m.Slice(in.Fds, in.Nfds*sizeofPollfd)
	if err != nil {
		return errRet(unix.EFAULT)
	}
	n := int(in.Nfds)
	// Host entries: one per guest fd that waits on a host descriptor, then
	// an eventfd for pipe rings, then the task's interrupt fd. Rings say
	// themselves whether they are ready (vfs.Ring).
	host := make([]unix.PollFd, 0, n+2)
	hostOf := make([]int, n) // index in host, or -1
	events := make([]int16, n)
	rings := make([]readier, n)
	revents := make([]int16, n)
	ready := 0
	for i := 0; i < n; i++ {
		e := raw[i*8:]
		fd := int32(binary.LittleEndian.Uint32(e))
		events[i] = int16(binary.LittleEndian.Uint16(e[4:]))
		hostOf[i] = -1
		if fd < 0 {
			continue
		}
		f, errno := p.FDs.Get(int(fd))
		if errno == 0 {
			rings[i], _ = f.File.(readier)
		}
		switch {
		case errno != 0:
			revents[i] = unix.POLLNVAL
		case rings[i] != nil:
			revents[i] = rings[i].Ready(events[i])
		case isWaitable(f):
			hostOf[i] = len(host)
			host = append(host, unix.PollFd{Fd: int32(f.File.(vfs.Waitable).PollFD()), Events: events[i]})
		default:
			// Image files and devices never block.
			revents[i] = events[i] & alwaysReady
		}
		if revents[i] != 0 {
			ready++
		}
	}
	timeout := -1
	switch {
	case ready > 0:
		timeout = 0
	case in.Timeout >= 0:
		timeout = int((time.Duration(in.Timeout) + time.Millisecond - 1) / time.Millisecond)
	}
	ev := -1
	if ready == 0 && timeout != 0 {
		for i := range rings {
			if rings[i] == nil {
				continue
			}
			if ev < 0 {
				if ev, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
					return errRet(unix.ENOMEM)
				}
				defer unix.Close(ev)
			}
			rings[i].Arm(ev)
			defer rings[i].Disarm(ev)
			if rings[i].Ready(events[i]) != 0 {
				timeout = 0 // it changed while being armed
			}
		}
	}
	if ready == 0 && timeout != 0 {
		// Only a poll that must block sees a pending signal, as on Linux.
		if n, err := unix.Poll(host, 0); err == nil && n > 0 {
			timeout = 0
		} else if e := p.PrepareBlock(); e != 0 {
			return errRet(e)
		}
	}
	evAt := len(host)
	if ev >= 0 {
		host = append(host, unix.PollFd{Fd: int32(ev), Events: unix.POLLIN})
	}
	intr := len(host)
	if fd := p.IntrFD(); fd >= 0 {
		host = append(host, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	deadline := time.Now().Add(time.Duration(timeout) * time.Millisecond)
	for {
		_, err := unix.Poll(host, timeout)
		if err == unix.EINTR {
			if timeout > 0 {
				timeout = max(0, int(time.Until(deadline)/time.Millisecond))
			}
			continue
		}
		if err != nil {
			return errRet(errOf(err))
		}
		ready = 0
		for i := 0; i < n; i++ {
			if h := hostOf[i]; h >= 0 {
				revents[i] = host[h].Revents
			} else if rings[i] != nil {
				revents[i] = rings[i].Ready(events[i])
			}
			if revents[i] != 0 {
				ready++
			}
		}
		if ready > 0 || ev < 0 || host[evAt].Revents == 0 || timeout == 0 {
			break
		}
		// A ring woke us for nothing this poll waits for: wait again,
		// armed again (a waker clears the wait flags).
		var b [8]byte
		unix.Read(ev, b[:])
		for i := range rings {
			if rings[i] != nil {
				rings[i].Arm(ev)
			}
		}
		if intr < len(host) && host[intr].Revents != 0 {
			break
		}
		if timeout > 0 {
			timeout = max(0, int(time.Until(deadline)/time.Millisecond))
		}
	}
	if ready == 0 && intr < len(host) && host[intr].Revents != 0 {
		return errRet(unix.EINTR)
	}
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint16(raw[i*8+6:], uint16(revents[i]))
	}
	return int64(ready)
}

// readier is a file that tells its poll events itself and wakes an
// eventfd when they may have changed (a pipe ring).
type readier interface {
	Ready(events int16) int16
	Arm(ev int)
	Disarm(ev int)
}

func isWaitable(f *vfs.OpenFile) bool {
	_, ok := f.File.(vfs.Waitable)
	return ok
}
