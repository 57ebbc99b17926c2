// Package machinetest is a fake machine backend: guests that run no code,
// driven by tests, so the process model and the hypercall handlers can be
// tested without /dev/kvm.
package machinetest

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// Backend makes fake machines and remembers them in order.
type Backend struct {
	mu       sync.Mutex
	machines []*Machine
	forked   atomic.Bool
	// FailFork, if set, makes every Fork fail with it.
	FailFork error
	// OnFork, if set, runs in every Fork once the child exists (to race
	// something against a fork in flight).
	OnFork func()
}

// New makes a machine with cfg.MemSize bytes of zeroed memory.
func (b *Backend) New(cfg machine.Config) (machine.Machine, error) {
	m := newMachine(b, make([]byte, cfg.MemSize))
	bi := machine.BootPage(m.mem)
	bi.Pid, bi.Ppid, bi.Mem_size = cfg.Boot.Pid, cfg.Boot.Ppid, cfg.MemSize
	return m, nil
}

// NewChunk makes a shared chunk the size of a pipe ring.
func (b *Backend) NewChunk() (machine.Chunk, error) {
	return &Chunk{b: make([]byte, abi.RingSize)}, nil
}

// Forked records that a program forked.
func (b *Backend) Forked() { b.forked.Store(true) }

// WasForked reports whether Forked was called.
func (b *Backend) WasForked() bool { return b.forked.Load() }

// Machines lists the machines made so far, forks included.
func (b *Backend) Machines() []*Machine {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*Machine(nil), b.machines...)
}

// Machine is a fake guest: Run serves what the test sends it (Do, Exit)
// on the goroutine that runs it, as a vCPU thread would.
type Machine struct {
	b       *Backend
	mu      sync.Mutex
	mem     *Memory
	calls   chan func(machine.Handler)
	exit    chan machine.Exit
	stop    chan struct{}
	stopSig atomic.Int32
	stopped sync.Once
	running chan struct{} // closed once Run started
	runOnce sync.Once
	closed  atomic.Bool
	Kicks   atomic.Int32
	Parent  *Machine
}

func newMachine(b *Backend, mem []byte) *Machine {
	m := &Machine{b: b, mem: &Memory{b: mem, chunks: map[uint64]machine.Chunk{}},
		calls: make(chan func(machine.Handler)), exit: make(chan machine.Exit, 1),
		stop: make(chan struct{}), running: make(chan struct{})}
	b.mu.Lock()
	b.machines = append(b.machines, m)
	b.mu.Unlock()
	return m
}

// Run serves Do and Exit until the machine exits or is stopped.
func (m *Machine) Run(h machine.Handler) (machine.Exit, error) {
	m.runOnce.Do(func() { close(m.running) })
	for {
		select {
		case f := <-m.calls:
			f(h)
		case e := <-m.exit:
			return e, nil
		case <-m.stop:
			return machine.Exit{Signal: unix.Signal(m.stopSig.Load())}, nil
		}
	}
}

// Do runs f on the machine's Run goroutine, with the machine's handler,
// as the guest's vCPU would make a hypercall; false if the machine ended
// first.
func (m *Machine) Do(f func(h machine.Handler)) bool {
	done := make(chan struct{})
	select {
	case m.calls <- func(h machine.Handler) { f(h); close(done) }:
		<-done
		return true
	case <-m.stop:
		return false
	}
}

// Hypercall makes hypercall nr with its argument struct at gpa from the
// guest and returns the Exit it caused (nil: the guest runs on). An Exit
// ends the machine.
func (m *Machine) Hypercall(nr uint16, gpa uint64) (exit *machine.Exit) {
	m.Do(func(h machine.Handler) {
		exit = h.Hypercall(m, nr, gpa)
	})
	if exit != nil {
		m.End(*exit)
	}
	return exit
}

// End makes the guest exit as e says (exit(2) or a fault).
func (m *Machine) End(e machine.Exit) {
	select {
	case m.exit <- e:
	default:
	}
}

// WaitRunning waits until the machine runs.
func (m *Machine) WaitRunning() { <-m.running }

func (m *Machine) Stop(sig unix.Signal) {
	m.stopped.Do(func() {
		m.stopSig.Store(int32(sig))
		close(m.stop)
	})
}

func (m *Machine) Kick() { m.Kicks.Add(1) }

// Fork copies the memory; the child's Run waits for the test like any.
func (m *Machine) Fork() (machine.Machine, error) {
	if m.b.FailFork != nil {
		return nil, m.b.FailFork
	}
	m.mu.Lock()
	mem := append([]byte(nil), m.mem.b...)
	chunks := map[uint64]machine.Chunk{}
	for gpa, c := range m.mem.chunks {
		chunks[gpa] = c
	}
	m.mu.Unlock()
	c := newMachine(m.b, mem)
	c.mem.chunks = chunks
	c.Parent = m
	if m.b.OnFork != nil {
		m.b.OnFork()
	}
	return c, nil
}

// Mem is nil once closed, as the contract says.
func (m *Machine) Mem() machine.Memory {
	if m.closed.Load() {
		return nil
	}
	return m.mem
}

// FakeMem is the machine's memory even after Close, for tests to inspect.
func (m *Machine) FakeMem() *Memory { return m.mem }

func (m *Machine) Close() { m.closed.Store(true) }

// Closed reports whether Close was called.
func (m *Machine) Closed() bool { return m.closed.Load() }

// Memory is plain bytes with the contract's bounds, and chunks mapped over
// them by address.
type Memory struct {
	mu      sync.Mutex
	b       []byte
	chunks  map[uint64]machine.Chunk
	windows map[uint64][]byte // shared objects above RAM
}

// window is [gpa, gpa+n) in a window, if one holds it.
func (m *Memory) window(gpa, n uint64) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for at, h := range m.windows {
		if gpa >= at && gpa-at < uint64(len(h)) && n <= uint64(len(h))-(gpa-at) {
			return h[gpa-at : gpa-at+n], true
		}
	}
	return nil, false
}

// Windows lists the windows mapped now, by address.
func (m *Memory) Windows() map[uint64][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[uint64][]byte{}
	for at, h := range m.windows {
		out[at] = h
	}
	return out
}

// MapWindow and UnmapWindow keep the windows the kernel maps.
func (m *Machine) MapWindow(gpa uint64, h []byte) error {
	m.mem.mu.Lock()
	defer m.mem.mu.Unlock()
	if m.mem.windows == nil {
		m.mem.windows = map[uint64][]byte{}
	}
	if _, ok := m.mem.windows[gpa]; ok || gpa < m.mem.Size() {
		return unix.EINVAL
	}
	m.mem.windows[gpa] = h
	return nil
}

func (m *Machine) UnmapWindow(gpa uint64) error {
	m.mem.mu.Lock()
	defer m.mem.mu.Unlock()
	if _, ok := m.mem.windows[gpa]; !ok {
		return unix.EINVAL
	}
	delete(m.mem.windows, gpa)
	return nil
}

func (m *Memory) Size() uint64 { return uint64(len(m.b)) }

// Slice returns guest memory, or the mapped chunk's for a range inside one.
func (m *Memory) Slice(gpa, n uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if b, ok := m.window(gpa, n); ok {
		return b, nil
	}
	if !machine.InRange(gpa, n, m.Size()) {
		return nil, unix.EFAULT
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for at, c := range m.chunks {
		h := c.Host()
		if gpa >= at && gpa-at < uint64(len(h)) {
			if n > uint64(len(h))-(gpa-at) {
				return nil, unix.EFAULT // straddles the chunk's end
			}
			return h[gpa-at : gpa-at+n : gpa-at+n], nil
		}
	}
	return m.b[gpa : gpa+n : gpa+n], nil
}

// Translate is the identity: fake guests have no page tables, so tests
// name guest-physical addresses directly.
func (m *Memory) Translate(va uint64, _ bool) (uint64, error) {
	if _, ok := m.window(va, 1); ok {
		return va, nil
	}
	if !machine.InRange(va, 1, m.Size()) {
		return 0, unix.EFAULT
	}
	return va, nil
}

func (m *Memory) Discard(gpa, n uint64) error {
	if gpa%4096 != 0 || n%4096 != 0 {
		return unix.EINVAL
	}
	b, err := m.Slice(gpa, n)
	if err != nil {
		return err
	}
	clear(b)
	return nil
}

func (m *Memory) MapShared(gpa uint64, c machine.Chunk) error {
	if gpa%abi.RingSize != 0 || !machine.InRange(gpa, uint64(len(c.Host())), m.Size()) {
		return unix.EINVAL
	}
	m.mu.Lock()
	m.chunks[gpa] = c
	m.mu.Unlock()
	return nil
}

func (m *Memory) UnmapShared(gpa uint64) error {
	m.mu.Lock()
	delete(m.chunks, gpa)
	m.mu.Unlock()
	return nil
}

// Mapped reports whether a chunk is mapped at gpa.
func (m *Memory) Mapped(gpa uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.chunks[gpa] != nil
}

func (m *Memory) Resident() uint64 { return 0 }

// Chunk is shared memory in the host alone.
type Chunk struct {
	b      []byte
	closed atomic.Bool
}

func (c *Chunk) Host() []byte { return c.b }
func (c *Chunk) Close()       { c.closed.Store(true) }
