// Package instance runs a baked image: it loads the image once and starts
// any number of VMs from it, each with its own host-side process.
package instance

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/control"
	"github.com/ukfork/ukfork/hypervisor/hcall"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/kvm"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/vm"
	"github.com/ukfork/ukfork/toolchain/image"
)

// Program is a loaded image, shared by the instances started from it.
type Program struct {
	Image   *image.Image
	FS      *vfs.FS
	Runtime *vm.Runtime
	sys     *kvm.System
	pool    *vm.Pool
}

// Load opens an image and checks everything a run needs.
func Load(path string) (*Program, error) {
	sys, err := kvm.Open()
	if err != nil {
		return nil, err
	}
	img, err := image.Open(path)
	if err != nil {
		return nil, err
	}
	b, err := img.Runtime()
	if err == nil {
		var rt *vm.Runtime
		if rt, err = vm.ParseRuntime(b); err == nil {
			return &Program{Image: img, FS: vfs.New(img.Manifest.Files, img.File), Runtime: rt, sys: sys,
				pool: vm.NewPool(sys, shellPool)}, nil
		}
	}
	img.Close()
	return nil, fmt.Errorf("%s: %w", path, err)
}

// shellPool is how many VM shells wait ready for launches and forks.
const shellPool = 8

// Close closes the image and the idle VM shells.
func (pr *Program) Close() error {
	pr.pool.Close()
	return pr.Image.Close()
}

// Options are per-run settings.
type Options struct {
	Args      []string // after argv[0]
	Env       []string // added to the image's environment
	MemSize   uint64   // 0: the image's
	Trace     io.Writer
	NoRewrite bool // leave syscall sites as they are (guest/rewrite)
	Stdio     [3]int
	Stderr    io.Writer
	Started   bool // report the first instruction (benchmarks)
	Hostname  string
	MaxProcs  int  // 0: kernel.DefaultMaxProcs
	Control   bool // serve `ukfork ps` and `ukfork kill`; pids unique on the host
}

// Instance is one running program: its kernel and first process.
type Instance struct {
	K    *kernel.Kernel
	Init *kernel.Task
	VM   *vm.VM // the first process's
	ran  bool
	ctl  *control.Server
}

// controlKernel adapts the kernel to the control socket.
type controlKernel struct{ k *kernel.Kernel }

func (c controlKernel) Procs() []control.Proc {
	var out []control.Proc
	for _, p := range c.k.Procs() {
		out = append(out, control.Proc{Pid: p.Pid, Ppid: p.Ppid, Pgid: p.Pgid, State: p.State, Command: p.Command, Resident: p.Resident})
	}
	return out
}

func (c controlKernel) Kill(pid int32, sig int) error {
	if e := c.k.Signal(pid, sig); e != 0 {
		return e
	}
	return nil
}

// Start creates the first VM; Run runs the program.
func (pr *Program) Start(o Options) (*Instance, error) {
	m := pr.Image.Manifest
	mem := o.MemSize
	if mem == 0 {
		mem = m.MemSize
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Hostname == "" {
		o.Hostname = "ukfork"
	}
	kc := kernel.Config{MaxProcs: o.MaxProcs, Handler: hcall.NewHandler, Stderr: o.Stderr}
	var ctl *control.Server
	var k *kernel.Kernel
	if o.Control {
		var err error
		if ctl, err = control.Reserve(pr.Image.Path, func() control.Kernel { return controlKernel{k} }); err != nil {
			return nil, err
		}
		kc.PidBase, kc.PidSpan, kc.SockDir = ctl.Base, control.BlockSize, ctl.SockDir
	}
	k = kernel.New(kc)
	boot := vm.Boot{
		Argv:      append([]string{m.Name}, o.Args...),
		Env:       mergeEnv(m.Env, o.Env),
		Program:   m.Program,
		Pid:       k.NextPid(),
		Hostname:  o.Hostname,
		StackSize: 8 << 20,
	}
	rand.Read(boot.Random[:])
	if o.Trace != nil {
		boot.Flags |= abi.BootTrace
	}
	if o.Started {
		boot.Flags |= abi.BootStarted
	}
	if o.NoRewrite {
		boot.Flags |= abi.BootNoRewrite
	}
	v, err := vm.New(pr.sys, vm.Config{MemSize: mem, Runtime: pr.Runtime, Boot: boot, Pool: pr.pool})
	if err != nil {
		if ctl != nil {
			ctl.Close()
		}
		return nil, err
	}
	t := kernel.NewInit(pr.FS, o.Stdio, o.Stderr, m.Name)
	if t.IntrFD() < 0 {
		v.Close()
		if ctl != nil {
			ctl.Close()
		}
		return nil, fmt.Errorf("cannot create an eventfd: too many open files?")
	}
	t.Trace = o.Trace
	return &Instance{K: k, Init: t, VM: v, ctl: ctl}, nil
}

// Run runs the program until its first process exits; every other process
// is stopped then. The result is how the first process ended.
func (in *Instance) Run() (vm.Exit, error) {
	in.ran = true
	in.K.Start(in.Init, in.VM)
	e := in.K.Wait()
	if in.ctl != nil {
		in.ctl.Close()
		in.ctl = nil
	}
	return e, nil
}

// Signal sends sig to the program's first process, which may catch it.
func (in *Instance) Signal(sig unix.Signal) { in.Init.Send(int(sig), 0) }

// Stop ends every process of the program at once, as killed by sig.
func (in *Instance) Stop(sig unix.Signal) { in.K.StopAll(sig) }

// Close releases what a program that never ran still holds.
func (in *Instance) Close() {
	if in.ctl != nil {
		in.ctl.Close()
		in.ctl = nil
	}
	if !in.ran {
		in.VM.Close()
		in.Init.FDs.CloseAll()
		in.Init.Free()
	}
}

// mergeEnv overrides base with extra, key by key, keeping base's order.
func mergeEnv(base, extra []string) []string {
	out := append([]string(nil), base...)
	for _, e := range extra {
		k := e
		if i := strings.IndexByte(e, '='); i >= 0 {
			k = e[:i]
		}
		replaced := false
		for i, b := range out {
			if len(b) > len(k) && b[:len(k)] == k && b[len(k)] == '=' {
				out[i], replaced = e, true
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	return out
}
