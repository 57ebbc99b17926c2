package hcall

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// poll (and through it ppoll, select, pselect6, done by the guest).

func init() {
	register(abi.HCPoll, call(abi.HCPoll, poll))
}

const (
	sizeofPollfd = 8
	alwaysReady  = unix.POLLIN | unix.POLLOUT | 0x40 | 0x100 // POLLRDNORM, POLLWRNORM
	// POLLERR, POLLHUP and POLLNVAL are reported whether asked or not.
	alwaysReported = unix.POLLERR | unix.POLLHUP | unix.POLLNVAL
)

func poll(p *kernel.Task, m machine.Memory, in abi.HCPollArgs, _ *abi.HCPollArgs) int64 {
	if in.Nfds > uint64(p.FDs.Max()) {
		return errRet(unix.EINVAL)
	}
	raw, e := copyIn(m, in.Fds, in.Nfds*sizeofPollfd)
	if e != 0 {
		return errRet(e)
	}
	n := int(in.Nfds)
	// One entry per guest fd that can wait (a ring, a host descriptor);
	// image files and devices never block, bad fds are POLLNVAL.
	waits := make([]waiter.Entry, 0, n)
	waitOf := make([]int, n) // index in waits, or -1
	revents := make([]int16, n)
	for i := 0; i < n; i++ {
		e := raw[i*sizeofPollfd:]
		fd := int32(binary.LittleEndian.Uint32(e))
		events := int16(binary.LittleEndian.Uint16(e[4:]))
		waitOf[i] = -1
		if fd < 0 {
			continue
		}
		f, errno := p.FDs.Get(int(fd))
		switch {
		case errno != 0:
			revents[i] = unix.POLLNVAL
		default:
			if w, ok := f.File.(waiter.Waitable); ok {
				waitOf[i] = len(waits)
				waits = append(waits, waiter.Entry{W: w, Events: events | alwaysReported})
			} else {
				revents[i] = events & alwaysReady
			}
		}
	}
	deadline := kernel.Deadline(in.Timeout)
	var now []int16
	for {
		now = waiter.Readiness(waits, now)
		ready := 0
		for i := range revents {
			if w := waitOf[i]; w >= 0 {
				revents[i] = now[w]
			}
			if revents[i] != 0 {
				ready++
			}
		}
		if ready > 0 || in.Timeout == 0 {
			for i := 0; i < n; i++ {
				binary.LittleEndian.PutUint16(raw[i*sizeofPollfd+6:], uint16(revents[i]))
			}
			if e := copyOut(m, in.Fds, raw); e != 0 {
				return errRet(e)
			}
			return int64(ready)
		}
		// Only a poll that must block sees a pending signal, as on Linux.
		switch e := p.Block(waits, deadline); e {
		case 0:
		case unix.ETIMEDOUT:
			in.Timeout = 0 // report what holds now, nothing
		default:
			return errRet(e)
		}
	}
}
