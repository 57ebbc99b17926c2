// Package machine is the contract between the process model and whatever
// runs a process: a machine (one guest VM, on some backend), its memory, and
// how it ended. The process model (hypervisor/kernel) and the hypercall
// handlers (hypervisor/hcall) see only these interfaces; KVM implements them
// in hypervisor/vm, a fake in machinetest, Xen later.
package machine

import (
	"golang.org/x/sys/unix"
)

// Exit says how a guest ended, as a process would.
type Exit struct {
	Code   int         // exit status, when Signal is 0
	Signal unix.Signal // terminating signal
	Msg    string      // one line for the user, if any
}

// Status is the exit status a shell would show: 0-255, or 128+signal.
func (e Exit) Status() int {
	if e.Signal != 0 {
		return 128 + int(e.Signal)
	}
	return e.Code & 0xff
}

// Handler serves a machine's hypercalls, on the machine's vCPU thread. A
// non-nil Exit ends the machine.
type Handler interface {
	Hypercall(m Machine, nr uint16, arg uint64) *Exit
}

// Machine is one guest with one vCPU.
type Machine interface {
	// Run runs the guest until it exits, faults or is stopped.
	Run(h Handler) (Exit, error)
	// Stop ends the guest as if killed by sig; from any goroutine.
	Stop(sig unix.Signal)
	// Kick makes a guest running its program's own code take its pending
	// signals; from any goroutine.
	Kick()
	// Fork clones the guest at the hypercall its vCPU is stopped at: the
	// child resumes after it. Only from the Handler.
	Fork() (Machine, error)
	// MapWindow maps host memory h (a shared object's, page-aligned) at
	// guest-physical gpa, above RAM; UnmapWindow takes the one at gpa
	// away. From the Handler, or before the machine runs.
	MapWindow(gpa uint64, h []byte) error
	UnmapWindow(gpa uint64) error
	// Mem is the guest's RAM; nil once the machine is closed.
	Mem() Memory
	// Close frees what the machine holds. Safe to call twice.
	Close()
}

// Memory is a guest's RAM as the host reaches it. Every address a guest
// names goes through Translate (guest-virtual to guest-physical) and Slice,
// which refuses what the guest may not name; vaddr.go has the helpers.
type Memory interface {
	Size() uint64
	// Slice is guest-physical [gpa, gpa+n), or EFAULT. A zero length is
	// always valid.
	Slice(gpa, n uint64) ([]byte, error)
	// Translate is the guest-physical address of guest-virtual va for a
	// user-mode access (a write if write), or EFAULT.
	Translate(va uint64, write bool) (uint64, error)
	// Discard gives a page-aligned range back: it reads zero after.
	Discard(gpa, n uint64) error
	// MapShared maps c at gpa (chunk-aligned) in place of what was there;
	// UnmapShared puts fresh memory back.
	MapShared(gpa uint64, c Chunk) error
	UnmapShared(gpa uint64) error
	// Resident is the host memory this guest holds on its own.
	Resident() uint64
}

// Chunk is memory that the host and several guests map at once (a pipe
// ring); a fork keeps it shared.
type Chunk interface {
	Host() []byte
	Close()
}

// Boot is what a new guest's runtime is told at start.
type Boot struct {
	Argv      []string
	Env       []string
	Program   string // path of the program in the image
	Flags     uint64 // abi.Boot*
	Pid, Ppid int32
	UID, GID  uint32
	Groups    []uint32 // supplementary groups, at most abi.NgroupsBoot
	Nice      int32    // -20..19
	Hostname  string
	StackSize uint64
	Random    [16]byte
}

// Config describes a machine to make.
type Config struct {
	MemSize uint64
	Boot    Boot
}

// Backend makes machines and the chunks they share.
type Backend interface {
	New(cfg Config) (Machine, error)
	NewChunk() (Chunk, error)
	// Forked tells the backend a program has forked: it may make ready
	// what later forks need (KVM: VM shells).
	Forked()
}
