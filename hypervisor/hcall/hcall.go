// Package hcall serves a guest's hypercalls: a table of small handlers, one
// file per family. Every value from the guest is checked here; the answer is
// a Linux errno in the call's ret, and a call whose argument struct itself
// is out of bounds ends that VM (a healthy runtime never makes one).
package hcall

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// Handler serves the hypercalls of one task.
type Handler struct{ T *kernel.Task }

// Hypercall implements machine.Handler.
func (h Handler) Hypercall(m machine.Machine, nr uint16, arg uint64) *machine.Exit {
	mem := m.Mem()
	if mem == nil {
		return &machine.Exit{Signal: unix.SIGKILL} // closed under it: the run is stopping
	}
	return Dispatch(h.T, mem, nr, arg)
}

// NewHandler is the kernel's factory of handlers.
func NewHandler(t *kernel.Task) machine.Handler { return Handler{T: t} }

type handler func(p *kernel.Task, m machine.Memory, gpa uint64) *machine.Exit

var table [abi.HCMax]handler

// register puts h in the table; a number registered twice is a bug.
func register(nr int, h handler) {
	// A hypercall is a 32-bit out: the CPU checks the I/O bitmap for
	// its port and the three after it, which the bitmap must hold.
	if nr > abi.HCMax-4 {
		panic(fmt.Sprintf("hcall: hypercall %d past what the I/O bitmap opens (UKF_HC_MAX %d)", nr, abi.HCMax))
	}
	if table[nr] != nil {
		panic(fmt.Sprintf("hcall: hypercall %d registered twice", nr))
	}
	table[nr] = h
}

// Dispatch runs hypercall nr of task p with its argument struct at gpa.
func Dispatch(p *kernel.Task, m machine.Memory, nr uint16, gpa uint64) *machine.Exit {
	if int(nr) >= len(table) || table[nr] == nil {
		return badCall(nr, gpa, "unknown hypercall")
	}
	return table[nr](p, m, gpa)
}

func badCall(nr uint16, gpa uint64, why string) *machine.Exit {
	return &machine.Exit{Signal: unix.SIGSYS, Msg: fmt.Sprintf("bad hypercall %d at %#x: %s", nr, gpa, why)}
}

// call adapts a handler over argument struct T (whose first field is the
// int64 ret): it checks the struct's range, hands fn a copy of the input so
// the guest cannot change a value after it was checked, and stores ret.
func call[T any](nr uint16, fn func(p *kernel.Task, m machine.Memory, in T, out *T) int64) handler {
	return func(p *kernel.Task, m machine.Memory, gpa uint64) *machine.Exit {
		ptr, err := machine.Ptr[T](m, gpa)
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

// copyIn reads n bytes of guest-virtual memory at va into a new slice.
func copyIn(m machine.Memory, va, n uint64) ([]byte, unix.Errno) {
	b := make([]byte, n)
	if machine.Read(m, va, b) != nil {
		return nil, unix.EFAULT
	}
	return b, 0
}

// copyOut writes b to guest-virtual va, whole or not at all.
func copyOut(m machine.Memory, va uint64, b []byte) unix.Errno {
	if machine.Write(m, va, b) != nil {
		return unix.EFAULT
	}
	return 0
}
