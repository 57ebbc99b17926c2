// Package hcall serves a guest's hypercalls: a table of small handlers, one
// file per family. Every value from the guest is checked here; the answer is
// a Linux errno in the call's ret, and a call whose argument struct itself
// is out of bounds ends that VM (a healthy runtime never makes one).
package hcall

import (
	"fmt"
	"io"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/memory"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/vm"
)

// Proc is the host side of one guest process.
type Proc struct {
	FS     *vfs.FS
	FDs    *vfs.FDTable
	Cwd    *vfs.Node
	Trace  io.Writer // nil: no trace
	Stderr io.Writer // ukfork's own messages
	Pid    int32

	// StartedAt is when the program's first instruction was reached
	// (reported only when the VM was booted with abi.BootStarted).
	StartedAt time.Time
	OnStarted func()

	stopOnce sync.Once
	stop     chan struct{}
	reported map[uint64]bool
}

// NewProc makes a process with stdin, stdout and stderr on the host's fds.
func NewProc(fs *vfs.FS, stdio [3]int, stderr io.Writer) *Proc {
	p := &Proc{FS: fs, FDs: vfs.NewFDTable(1024), Cwd: fs.Root, Stderr: stderr,
		stop: make(chan struct{}), reported: map[uint64]bool{}}
	for i, fd := range stdio {
		flags := unix.O_RDWR
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
			flags = fl
		}
		p.FDs.Install(&vfs.OpenFile{File: &vfs.HostFile{FD: fd}, Flags: flags}, false)
		_ = i
	}
	return p
}

// Interrupt wakes the process from a sleep so that its VM can stop.
func (p *Proc) Interrupt() { p.stopOnce.Do(func() { close(p.stop) }) }

// Close releases everything the process holds.
func (p *Proc) Close() { p.FDs.CloseAll() }

// Hypercall implements vm.Handler.
func (p *Proc) Hypercall(v *vm.VM, nr uint16, arg uint64) *vm.Exit {
	return p.Dispatch(v.Mem(), nr, arg)
}

type handler func(p *Proc, m *memory.Memory, gpa uint64) *vm.Exit

var table [abi.HCMax]handler

// register puts h in the table; a number registered twice is a bug.
func register(nr int, h handler) {
	if table[nr] != nil {
		panic(fmt.Sprintf("hcall: hypercall %d registered twice", nr))
	}
	table[nr] = h
}

// Dispatch runs hypercall nr with its argument struct at guest address gpa.
func (p *Proc) Dispatch(m *memory.Memory, nr uint16, gpa uint64) *vm.Exit {
	if int(nr) >= len(table) || table[nr] == nil {
		return badCall(nr, gpa, "unknown hypercall")
	}
	return table[nr](p, m, gpa)
}

func badCall(nr uint16, gpa uint64, why string) *vm.Exit {
	return &vm.Exit{Signal: unix.SIGSYS, Msg: fmt.Sprintf("bad hypercall %d at %#x: %s", nr, gpa, why)}
}

// call adapts a handler over argument struct T (whose first field is the
// int64 ret): it checks the struct's range, hands fn a copy of the input so
// the guest cannot change a value after it was checked, and stores ret.
func call[T any](nr uint16, fn func(p *Proc, m *memory.Memory, in T, out *T) int64) handler {
	return func(p *Proc, m *memory.Memory, gpa uint64) *vm.Exit {
		ptr, err := memory.Ptr[T](m, gpa)
		if err != nil {
			return badCall(nr, gpa, "argument out of guest memory")
		}
		ret := fn(p, m, *ptr, ptr)
		*(*int64)(unsafe.Pointer(ptr)) = ret
		return nil
	}
}

// errRet turns an errno into a hypercall result.
func errRet(e unix.Errno) int64 { return -int64(e) }

func errOf(err error) unix.Errno {
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EFAULT
}
