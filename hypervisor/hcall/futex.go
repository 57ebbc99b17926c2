package hcall

import (
	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// Futexes on memory the run's processes share (kernel/futex.go): the
// runtime sends those of shared words here.

func init() {
	register(abi.HCFutex, call(abi.HCFutex, futex))
}

// futex(2) operations served here.
const (
	futexWait       = 0
	futexWake       = 1
	futexRequeue    = 3
	futexCmpRequeue = 4
	futexWakeOp     = 5
	futexWaitBitset = 9
	futexWakeBitset = 10
)

// futexCount is a count argument as Linux reads it: an int, negative
// meaning none (for wakes) or EINVAL (for requeue).
func futexCount(v uint32) int { return int(int32(v)) }

func futex(p *kernel.Task, m machine.Memory, in abi.HCFutexArgs, _ *abi.HCFutexArgs) int64 {
	if in.Uaddr&3 != 0 {
		return errRet(unix.EINVAL)
	}
	gpa, err := m.Translate(in.Uaddr, false)
	if err != nil {
		return errRet(unix.EFAULT)
	}
	addr2 := func() (uint64, unix.Errno) {
		if in.Uaddr2&3 != 0 {
			return 0, unix.EINVAL
		}
		g, err := m.Translate(in.Uaddr2, in.Op == futexWakeOp)
		if err != nil {
			return 0, unix.EFAULT
		}
		return g, 0
	}
	switch in.Op {
	case futexWait, futexWaitBitset:
		if in.Val3 == 0 {
			return errRet(unix.EINVAL)
		}
		return errRet(p.FutexWait(gpa, in.Val, in.Val3, kernel.Deadline(in.Timeout)))
	case futexWake, futexWakeBitset:
		if in.Val3 == 0 {
			return errRet(unix.EINVAL)
		}
		n, e := p.FutexWake(gpa, max(futexCount(in.Val), 0), in.Val3)
		if e != 0 {
			return errRet(e)
		}
		return int64(n)
	case futexRequeue, futexCmpRequeue:
		if futexCount(in.Val) < 0 || futexCount(in.Val2) < 0 {
			return errRet(unix.EINVAL)
		}
		g2, e := addr2()
		if e != 0 {
			return errRet(e)
		}
		n, e := p.FutexRequeue(gpa, g2, futexCount(in.Val), futexCount(in.Val2), in.Op == futexCmpRequeue, in.Val3)
		if e != 0 {
			return errRet(e)
		}
		return int64(n)
	case futexWakeOp:
		g2, e := addr2()
		if e != 0 {
			return errRet(e)
		}
		n, e := p.FutexWakeOp(gpa, g2, max(futexCount(in.Val), 0), max(futexCount(in.Val2), 0), in.Val3)
		if e != 0 {
			return errRet(e)
		}
		return int64(n)
	}
	return errRet(unix.ENOSYS)
}
