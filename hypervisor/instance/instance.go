// Package instance runs a baked image: it loads the image once and starts
// any number of VMs from it, each with its own host-side process.
package instance

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/control"
	"github.com/ukfork/ukfork/hypervisor/hcall"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/procfs"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/hypervisor/vm"
	"github.com/ukfork/ukfork/toolchain/image"
)

// Program is a loaded image, shared by the instances started from it.
type Program struct {
	Image   *image.Image
	FS      *vfs.FS
	Runtime *vm.Runtime
	backend *vm.Backend
	mapped  *vm.Image // the image file, mapped into every guest
}

// Load opens an image and checks everything a run needs.
func Load(path string) (*Program, error) {
	img, err := image.Open(path)
	if err != nil {
		return nil, err
	}
	b, err := img.Runtime()
	if err == nil {
		var rt *vm.Runtime
		if rt, err = vm.ParseRuntime(b); err == nil {
			var be *vm.Backend
			var mapped *vm.Image
			if mapped, err = vm.MapImage(img.File); err == nil {
				if be, err = vm.NewBackend(rt, shellPool, mapped); err == nil {
					return &Program{Image: img, FS: vfs.New(img.Manifest.Files, img.File), Runtime: rt, backend: be, mapped: mapped}, nil
				}
				mapped.Close()
			}
			img.Close()
			return nil, err
		}
	}
	img.Close()
	return nil, fmt.Errorf("%s: %w", path, err)
}

// shellPool is how many VM shells wait ready for forks once a program has
// forked.
const shellPool = 8

// Close closes the image and the idle VM shells.
func (pr *Program) Close() error {
	pr.backend.Close()
	pr.mapped.Close()
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
	// User, if set, is who the program runs as, with no supplementary
	// groups; else the user who runs ukfork, with their groups.
	User *User
	// Entrypoint, if set, is the program of the image to start instead of
	// the baked one (an absolute path in the image); argv[0] is its name.
	Entrypoint string
	// FilesSize bounds what the run's memory files hold (its changes to
	// the image, /tmp, /run, /dev/shm); 0: vfs.DefaultSpace.
	FilesSize int64
	// Volumes are host directories mounted in the guest's tree.
	Volumes []vfs.VolumeSpec
}

// entrypoint checks a program path given at run time against the image.
func (pr *Program) entrypoint(p string) (name string, err error) {
	if !path.IsAbs(p) {
		return "", fmt.Errorf("--entrypoint %s: give the program's absolute path in the image (see ukfork inspect)", p)
	}
	n, e := pr.FS.Lookup(pr.FS.Root, p, true)
	switch {
	case e != 0:
		return "", fmt.Errorf("--entrypoint %s: not in the image (%v): see ukfork inspect %s", p, e, pr.Image.Path)
	case n.Mode&unix.S_IFMT != unix.S_IFREG || n.Mode&0o111 == 0:
		return "", fmt.Errorf("--entrypoint %s: not an executable file in the image", p)
	}
	return path.Base(p), nil
}

// Instance is one running program: its kernel and first process.
type Instance struct {
	K      *kernel.Kernel
	Init   *kernel.Task
	waited bool
	ctl    *control.Server
	tree   *vfs.Run // the run's files: gone when it ends
}

// controlKernel adapts a kernel to the control socket, which may be asked
// before the kernel exists (then there is nothing to show yet).
type controlKernel struct {
	k *atomic.Pointer[kernel.Kernel]
}

func (c controlKernel) Procs() []control.Proc {
	k := c.k.Load()
	if k == nil {
		return nil
	}
	var out []control.Proc
	for _, p := range k.Procs() {
		out = append(out, control.Proc{Pid: p.Pid, Ppid: p.Ppid, Pgid: p.Pgid, State: p.State, Command: p.Command,
			Resident: p.Resident, HostMem: p.HostMem})
	}
	return out
}

func (c controlKernel) Kill(pid int32, sig int) error {
	k := c.k.Load()
	if k == nil {
		return unix.ESRCH
	}
	if e := k.Signal(pid, sig); e != 0 {
		return e
	}
	return nil
}

// Start starts the program's first process; Run waits for its end.
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
	name, program := m.Name, m.Program
	if o.Entrypoint != "" {
		var err error
		if name, err = pr.entrypoint(o.Entrypoint); err != nil {
			return nil, err
		}
		program = path.Clean(o.Entrypoint)
	}
	argv0 := name
	if o.Entrypoint != "" {
		argv0 = o.Entrypoint // as Docker gives it: programs find themselves by it
	}
	kc := kernel.Config{Backend: pr.backend, MaxProcs: o.MaxProcs, Handler: hcall.NewHandler, Stderr: o.Stderr}
	var ctl *control.Server
	var kp atomic.Pointer[kernel.Kernel]
	if o.Control {
		var err error
		if ctl, err = control.Reserve(pr.Image.Path, func() control.Kernel { return controlKernel{&kp} }); err != nil {
			return nil, err
		}
		kc.Pids = &kernel.PidRange{Base: ctl.Base, End: ctl.Base + control.BlockSize}
		kc.SockDir = ctl.SockDir
	}
	uid, gid, groups, err := credentials(o.User, pr.FS)
	if err != nil {
		if ctl != nil {
			ctl.Close()
		}
		return nil, err
	}
	budget := vfs.DefaultBudget()
	kc.Budget = budget
	tree, err := vfs.NewRun(vfs.RunConfig{Image: pr.FS, Space: o.FilesSize, Volumes: o.Volumes, Budget: budget})
	if err != nil {
		if ctl != nil {
			ctl.Close()
		}
		return nil, err
	}
	k := kernel.New(kc)
	kp.Store(k)
	if err := mountProc(tree.NS, k, o.Hostname); err != nil {
		tree.Close()
		if ctl != nil {
			ctl.Close()
		}
		return nil, err
	}
	tree.NS.Ctty = k.Ctty
	boot := machine.Boot{
		Argv:      append([]string{argv0}, o.Args...),
		Env:       mergeEnv(m.Env, o.Env),
		Program:   program,
		UID:       uid,
		GID:       gid,
		Groups:    groups,
		Nice:      hostNice(),
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
	t, err := k.Start(kernel.Init{Name: name, NS: tree.NS, Stdio: o.Stdio, Pts: tree.Pts, Trace: o.Trace, Stderr: o.Stderr,
		Machine: machine.Config{MemSize: mem, Boot: boot}})
	if err != nil {
		tree.Close()
		if ctl != nil {
			ctl.Close()
		}
		return nil, err
	}
	return &Instance{K: k, Init: t, ctl: ctl, tree: tree}, nil
}

// Run waits until the program's first process exits; every other process
// is stopped then. The result is how the first process ended.
func (in *Instance) Run() (machine.Exit, error) {
	in.waited = true
	e := in.K.Wait()
	in.tree.Close()
	if in.ctl != nil {
		in.ctl.Close()
		in.ctl = nil
	}
	return e, nil
}

// Signal sends sig to the program's first process, which may catch it.
func (in *Instance) Signal(sig unix.Signal) { in.K.Signal(in.Init.Pid, int(sig)) }

// Stop ends every process of the program at once, as killed by sig.
func (in *Instance) Stop(sig unix.Signal) { in.K.StopAll(sig) }

// Close stops a program that was not waited for and frees what it holds.
func (in *Instance) Close() {
	if !in.waited {
		in.K.StopAll(unix.SIGKILL)
		in.Run() // closes the tree too
	}
	if in.ctl != nil {
		in.ctl.Close()
		in.ctl = nil
	}
}

// hostNice is this process's nice value: the program inherits it, as a
// child process would.
func hostNice() int32 {
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return 0
	}
	return int32(20 - raw) // the raw call's 40..1
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

// mountProc mounts the run's /proc and makes /dev's links into it, as a
// Linux system has them: /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr.
func mountProc(ns *vfs.Namespace, k *kernel.Kernel, hostname string) error {
	if err := ns.Mount("/proc", procfs.NewFS(k.ProcSource(ns, hostname)), false); err != nil {
		return fmt.Errorf("mounting /proc: %w", err)
	}
	dev, e := ns.MkdirAll("/dev")
	if e != 0 {
		return fmt.Errorf("making /dev: %w", e)
	}
	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		if e := ns.Symlink(vfs.Root, target, dev, name); e != 0 && e != unix.EEXIST {
			return fmt.Errorf("making /dev/%s: %w", name, e)
		}
	}
	return nil
}
