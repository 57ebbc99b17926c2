// eventfd and timerfd: counters and timers the host kernel keeps.

package vfs

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// An eventfd or a timerfd is a host one: the host kernel gives the counter,
// EFD_SEMAPHORE, the timer's expirations and poll readiness their exact
// meaning, and a forked child shares it as the same open file description.
// It is non-blocking on the host as owned descriptors are; the program's
// O_NONBLOCK is the description's.

// Eventfd is what eventfd2 gives.
type Eventfd struct{ HostFile }

// Timerfd is what timerfd_create gives.
type Timerfd struct{ HostFile }

// NewEventfd makes an eventfd with eventfd2's initval and flags.
func NewEventfd(b *Budget, initval uint32, flags int) (*OpenFile, unix.Errno) {
	if flags&^(unix.EFD_CLOEXEC|unix.EFD_NONBLOCK|unix.EFD_SEMAPHORE) != 0 {
		return nil, unix.EINVAL
	}
	fd, e := newHostFD(b, func() (int, error) {
		return unix.Eventfd(uint(initval), unix.EFD_CLOEXEC|unix.EFD_NONBLOCK|flags&unix.EFD_SEMAPHORE)
	})
	if e != 0 {
		return nil, e
	}
	return NewOpenFile(&Eventfd{HostFile{FD: fd, Owned: true, budget: b}}, unix.O_RDWR|flags&unix.O_NONBLOCK), 0
}

// NewTimerfd makes a timer on clock with timerfd_create's flags. The alarm
// clocks, which wake a suspended host, are refused as for a program
// without CAP_WAKE_ALARM.
func NewTimerfd(b *Budget, clock int, flags int) (*OpenFile, unix.Errno) {
	if flags&^(unix.TFD_CLOEXEC|unix.TFD_NONBLOCK) != 0 {
		return nil, unix.EINVAL
	}
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME:
	case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		return nil, unix.EPERM
	default:
		return nil, unix.EINVAL
	}
	fd, e := newHostFD(b, func() (int, error) {
		return unix.TimerfdCreate(clock, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK)
	})
	if e != 0 {
		return nil, e
	}
	return NewOpenFile(&Timerfd{HostFile{FD: fd, Owned: true, budget: b}}, unix.O_RDWR|flags&unix.O_NONBLOCK), 0
}

// ItimerspecSize is the size of the kernel's struct itimerspec.
const ItimerspecSize = 32

// Settime is timerfd_settime with the guest's struct itimerspec bytes;
// the old setting goes to old if it is not nil.
func (t *Timerfd) Settime(flags int, new, old []byte) unix.Errno {
	var o unsafe.Pointer
	if old != nil {
		o = unsafe.Pointer(&old[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_TIMERFD_SETTIME, uintptr(t.FD), uintptr(flags),
		uintptr(unsafe.Pointer(&new[0])), uintptr(o), 0, 0)
	return e
}

// Gettime is timerfd_gettime into the guest's struct itimerspec bytes.
func (t *Timerfd) Gettime(cur []byte) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_TIMERFD_GETTIME, uintptr(t.FD), uintptr(unsafe.Pointer(&cur[0])), 0)
	return e
}
