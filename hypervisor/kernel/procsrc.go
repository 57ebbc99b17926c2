package kernel

import (
	"crypto/rand"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/procfs"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// ProcSource is what the run's /proc shows: the process table, and for
// each process of this host what its runtime publishes in its boot page and
// memory (ids, limits, arguments, mappings), read as untrusted guest data.
type ProcSource struct {
	k        *Kernel
	ns       *vfs.Namespace
	hostname string
	bootID   string
	cpuinfo  []byte
	start    time.Time
}

// ProcSource makes the Source of the run's /proc over the namespace ns.
func (k *Kernel) ProcSource(ns *vfs.Namespace, hostname string) *ProcSource {
	var id [16]byte
	rand.Read(id[:])
	id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80
	cpu, _ := os.ReadFile("/proc/cpuinfo")
	return &ProcSource{k: k, ns: ns, hostname: hostname, cpuinfo: cpu, start: time.Now(),
		bootID: fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:])}
}

func monotonic() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func (s *ProcSource) System() procfs.System {
	infos, views := s.k.table.list()
	sys := procfs.System{
		UptimeNs: monotonic(), Hostname: s.hostname, BootID: s.bootID,
		Procs: len(infos), HostCPUInfo: s.cpuinfo,
	}
	sys.BootTime = time.Now().Unix() - sys.UptimeNs/1e9
	for i, in := range infos {
		if in.State == "running" {
			sys.Running++
		}
		sys.LastPid = max(sys.LastPid, in.Pid)
		if p, ok := views[i].(*Process); ok && sys.MemTotal == 0 {
			if m := p.M.Mem(); m != nil {
				sys.MemTotal = m.Size()
				sys.MemFree = m.Size() - min(m.Size(), p.resident())
			}
		}
	}
	for i, m := range s.ns.Mounts() {
		mt := procfs.Mount{Target: m.Path, ID: 20 + i, ParentID: 20, Options: "rw,relatime"}
		if m.ReadOnly {
			mt.Options = "ro,relatime"
		}
		var st abi.Statfs
		m.FS.Statfs(&st)
		switch st.Type {
		case 0x01021994:
			mt.Source, mt.FSType = "tmpfs", "tmpfs"
		case 0x9fa0:
			mt.Source, mt.FSType = "proc", "proc"
		case 0x794c7630:
			mt.Source, mt.FSType = "overlay", "overlay"
		default:
			mt.Source, mt.FSType = "ukfork", "ext4"
		}
		if i == 0 {
			mt.ParentID = 1
		}
		sys.Mounts = append(sys.Mounts, mt)
	}
	return sys
}

func (s *ProcSource) Pids() []int32 {
	infos, _ := s.k.table.list()
	out := make([]int32, len(infos))
	for i, in := range infos {
		out[i] = in.Pid
	}
	return out
}

func (s *ProcSource) Proc(pid int32) (*procfs.Proc, bool) {
	infos, views := s.k.table.list()
	for i, in := range infos {
		if in.Pid != pid {
			continue
		}
		pr := &procfs.Proc{Pid: in.Pid, PPid: in.Ppid, Pgid: in.Pgid, Comm: in.Command, State: procfs.Sleeping}
		if in.State == "zombie" {
			pr.State = procfs.Zombie
			return pr, true
		}
		for j := range pr.Limits {
			pr.Limits[j] = procfs.Limit{Cur: procfs.Infinity, Max: procfs.Infinity}
		}
		if p, ok := views[i].(*Process); ok {
			s.fill(pr, p)
		}
		return pr, true
	}
	return nil, false
}

// fill adds what p's host side and its boot page and memory say.
func (s *ProcSource) fill(pr *procfs.Proc, p *Process) {
	_, _, _, pr.Sid = p.Info()
	p.cwdMu.Lock()
	cwd, exe := p.cwd, p.exe
	p.cwdMu.Unlock()
	pr.Exe, pr.Cwd = exe, s.ns.Path(cwd)
	p.FDs.Each(func(fd int, f *vfs.OpenFile) {
		pr.FDs = append(pr.FDs, procfs.FD{Num: fd, Target: s.fdTarget(f), Flags: f.Flags()})
	})
	pr.RSS = p.resident()

	// The guest's memory is read while it runs, under sigMu so that it
	// is not freed meanwhile; every value is bounded before use.
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	bi := p.boot()
	if bi == nil {
		return
	}
	pr.UID, pr.EUID, pr.SUID, pr.FSUID = bi.Cred_uid[0], bi.Cred_uid[1], bi.Cred_uid[2], bi.Fsuid
	pr.GID, pr.EGID, pr.SGID, pr.FSGID = bi.Cred_gid[0], bi.Cred_gid[1], bi.Cred_gid[2], bi.Fsgid
	pr.Groups = append([]uint32(nil), bi.Groups[:min(bi.Ngroups, uint32(len(bi.Groups)))]...)
	pr.Nice = int(bi.Nice)
	if c := bootComm(bi); c != "" {
		pr.Comm = c
	}
	pr.SigPnd = atomic.LoadUint64(&bi.Sig_pending)
	pr.SigBlk = atomic.LoadUint64(&bi.Sig_blocked)
	pr.SigIgn = atomic.LoadUint64(&bi.Sig_ignored)
	pr.SigCgt = atomic.LoadUint64(&bi.Sig_caught)
	for j := 0; j < len(pr.Limits) && j < len(bi.Rlimits); j++ {
		pr.Limits[j] = procfs.Limit{Cur: bi.Rlimits[j].Cur, Max: bi.Rlimits[j].Max}
	}
	m := p.M.Mem()
	pr.Layout.ArgStart, pr.Layout.ArgEnd = bi.Arg_start, bi.Arg_end
	pr.Layout.EnvStart, pr.Layout.EnvEnd = bi.Env_start, bi.Env_end
	pr.Cmdline = guestBytes(m, bi.Arg_start, bi.Arg_end)
	pr.Environ = guestBytes(m, bi.Env_start, bi.Env_end)
	pr.Mappings, pr.VMSize = guestMaps(m, bi.Vma_table, bi.Vma_count_at)
}

// maxArgs bounds what is read of a process's arguments (Linux's ARG_MAX).
const maxArgs = 2 << 20

func guestBytes(m machine.Memory, start, end uint64) []byte {
	if end <= start || end-start > maxArgs {
		return nil
	}
	b := make([]byte, end-start)
	if machine.Read(m, start, b) != nil {
		return nil
	}
	return b
}

// guestMaps reads the runtime's table of mappings.
func guestMaps(m machine.Memory, table, countAt uint64) ([]procfs.Mapping, uint64) {
	n, err := machine.ReadValue[uint32](m, countAt)
	if err != nil || n > abi.VMAMax {
		return nil, 0
	}
	raw := make([]abi.Vma, n)
	if n == 0 || machine.Read(m, table, unsafe.Slice((*byte)(unsafe.Pointer(&raw[0])), uintptr(n)*unsafe.Sizeof(raw[0]))) != nil {
		return nil, 0
	}
	var out []procfs.Mapping
	var size uint64
	for _, v := range raw {
		if v.End <= v.Start || v.End > abi.UserTop {
			continue
		}
		mp := procfs.Mapping{Start: v.Start, End: v.End, Shared: v.Flags&abi.VMAShared != 0}
		if v.Prot&unix.PROT_READ != 0 {
			mp.Prot |= procfs.ProtR
		}
		if v.Prot&unix.PROT_WRITE != 0 {
			mp.Prot |= procfs.ProtW
		}
		if v.Prot&unix.PROT_EXEC != 0 {
			mp.Prot |= procfs.ProtX
		}
		switch {
		case v.Flags&abi.VMAHeap != 0:
			mp.Path = "[heap]"
		case v.Flags&abi.VMAStack != 0:
			mp.Path = "[stack]"
		}
		size += v.End - v.Start
		out = append(out, mp)
	}
	return out, size
}

// OpenFD is process pid's descriptor fd, for /proc/PID/fd/N opened.
func (s *ProcSource) OpenFD(pid int32, fd int) (*vfs.OpenFile, bool) {
	infos, views := s.k.table.list()
	for i, in := range infos {
		if p, ok := views[i].(*Process); ok && in.Pid == pid {
			f, e := p.FDs.Get(fd)
			return f, e == 0
		}
	}
	return nil, false
}

// fdTarget is what readlink of /proc/PID/fd/N shows.
func (s *ProcSource) fdTarget(f *vfs.OpenFile) string {
	if t, ok := f.File.(interface{ Target() string }); ok && t.Target() != "" {
		return t.Target()
	}
	if n := f.Inode(); n != nil {
		return s.ns.Path(n)
	}
	switch e := f.File.(type) {
	case *vfs.RingEnd:
		return fmt.Sprintf("pipe:[%d]", uintptr(unsafe.Pointer(e.Ring()))&0xffffff)
	case *vfs.Socket:
		return fmt.Sprintf("socket:[%d]", uintptr(unsafe.Pointer(e))&0xffffff)
	}
	if h, ok := f.File.(interface{ PollFD() int }); ok {
		if t, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", h.PollFD())); err == nil {
			return t
		}
	}
	return fmt.Sprintf("anon_inode:[%T]", f.File)
}

// bootComm is the name the runtime publishes (comm), "" if none yet.
func bootComm(bi *abi.Bootinfo) string {
	c := unsafe.Slice((*byte)(unsafe.Pointer(&bi.Comm[0])), len(bi.Comm))
	n := 0
	for n < len(c)-1 && c[n] != 0 {
		n++
	}
	return string(c[:n])
}

// comm is p's name as its runtime has it (prctl PR_SET_NAME included), ""
// once it is gone.
func (p *Process) comm() string {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if bi := p.boot(); bi != nil {
		return bootComm(bi)
	}
	return ""
}
