// The files of /proc/PID: what the host knows of one process, in Linux's formats (proc(5)).

// Package procfs produces the contents of Linux's /proc for the run's
// processes, and a read-only tree over them, so the filesystem that mounts
// it stays thin. It knows nothing of KVM or of the VFS: callers fill Proc
// and System from the process table.
package procfs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Process states as stat and status show them.
const (
	Running  = 'R'
	Sleeping = 'S'
	Stopped  = 'T'
	Zombie   = 'Z'
)

// Protection bits of a Mapping.
const (
	ProtR = 1 << iota
	ProtW
	ProtX
)

// RLIM_INFINITY, as getrlimit returns it.
const Infinity = ^uint64(0)

// The resources of Limits, in Linux's order (RLIMIT_*).
const (
	RlimitCPU = iota
	RlimitFsize
	RlimitData
	RlimitStack
	RlimitCore
	RlimitRSS
	RlimitNproc
	RlimitNofile
	RlimitMemlock
	RlimitAS
	RlimitLocks
	RlimitSigpending
	RlimitMsgqueue
	RlimitNice
	RlimitRtprio
	RlimitRttime
	NumRlimits
)

// clockTicks is USER_HZ: stat counts times in these, whatever the kernel's HZ.
const clockTicks = 100

const pageSize = 4096

// Proc is what the host knows of one process.
type Proc struct {
	Pid, PPid, Pgid, Sid int32
	Comm                 string // truncated to 15 bytes, as Linux's TASK_COMM_LEN
	State                byte   // Running, Sleeping, Stopped, Zombie
	Exe, Cwd, Root       string // Root "" reads as "/"
	Umask                uint32

	UID, EUID, SUID, FSUID uint32
	GID, EGID, SGID, FSGID uint32
	Groups                 []uint32

	Nice      int
	StartTime int64 // ns since boot
	UserNs    int64 // CPU time
	SystemNs  int64

	VMSize, RSS       uint64 // bytes
	RSSFile, RSSShmem uint64 // parts of RSS; the rest is anonymous

	// Signal sets, bit n-1 for signal n.
	SigPnd, SigBlk, SigIgn, SigCgt uint64

	NumFDs   int // 0: len(FDs)
	FDs      []FD
	Mappings []Mapping
	Limits   [NumRlimits]Limit
	Layout   Layout

	Cmdline, Environ []byte // NUL-separated, as read from the process
}

// FD is one open descriptor.
type FD struct {
	Num    int
	Target string // as readlink shows: "/path", "pipe:[ino]", "socket:[ino]", "anon_inode:[eventfd]"
	Pos    int64
	Flags  int // open(2)'s, O_CLOEXEC included when the descriptor has it
	MntID  int
	Ino    uint64
}

// Mapping is one line of maps.
type Mapping struct {
	Start, End uint64
	Prot       int // ProtR|ProtW|ProtX
	Shared     bool
	Offset     uint64
	Dev        string // "fe:00"; "" reads as "00:00"
	Inode      uint64
	Path       string // "/lib/x.so", "[heap]", "[stack]", "" for anonymous
}

// Limit is one resource's soft and hard limit.
type Limit struct{ Cur, Max uint64 }

// Layout holds the addresses stat's last fields show (0 where unknown,
// as Linux shows them to a reader that may not ptrace the process).
type Layout struct {
	StartCode, EndCode, StartStack     uint64
	StartData, EndData, StartBrk       uint64
	ArgStart, ArgEnd, EnvStart, EnvEnd uint64
}

// comm is the name as the kernel keeps it: 15 bytes and a NUL.
func (p *Proc) comm() string {
	if len(p.Comm) > 15 {
		return p.Comm[:15]
	}
	return p.Comm
}

func (p *Proc) state() byte {
	if p.State == 0 {
		return Running
	}
	return p.State
}

func (p *Proc) numFDs() int {
	if p.NumFDs > 0 {
		return p.NumFDs
	}
	return len(p.FDs)
}

// vm sums the mappings by kind, as status's Vm* lines and statm count them.
type vm struct{ data, stack, exe, lib uint64 }

func (p *Proc) vm() vm {
	var v vm
	for _, m := range p.Mappings {
		n := m.End - m.Start
		switch {
		case m.Path == "[stack]":
			v.stack += n
		case m.Prot&ProtX != 0 && m.Path != "" && m.Path[0] == '/':
			if m.Path == p.Exe {
				v.exe += n
			} else {
				v.lib += n
			}
		case m.Prot&ProtW != 0 && !m.Shared:
			v.data += n
		}
	}
	return v
}

// Stat is /proc/PID/stat: 52 fields, times in clock ticks.
func Stat(p *Proc) []byte {
	ticks := func(ns int64) int64 { return ns / (1e9 / clockTicks) }
	l, vsize, rss := &p.Layout, p.VMSize, p.RSS/pageSize
	if p.state() == Zombie { // no mm left: Linux shows its fields as 0
		l, vsize, rss = &Layout{}, 0, 0
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d (%s) %c %d %d %d 0 -1 4194304 0 0 0 0 %d %d 0 0 %d %d 1 0 %d %d %d %d",
		p.Pid, p.comm(), p.state(), p.PPid, p.Pgid, p.Sid,
		ticks(p.UserNs), ticks(p.SystemNs), 20+p.Nice, p.Nice,
		ticks(p.StartTime), vsize, rss, p.Limits[RlimitRSS].Cur)
	// startcode endcode startstack kstkesp kstkeip; the four signal sets
	// (decimal, obsolete); wchan nswap cnswap exit_signal processor
	// rt_priority policy delayacct_blkio_ticks guest_time cguest_time.
	fmt.Fprintf(&b, " %d %d %d 0 0 %d %d %d %d 0 0 0 17 0 0 0 0 0 0",
		l.StartCode, l.EndCode, l.StartStack,
		p.SigPnd, p.SigBlk, p.SigIgn, p.SigCgt)
	fmt.Fprintf(&b, " %d %d %d %d %d %d %d 0\n",
		l.StartData, l.EndData, l.StartBrk, l.ArgStart, l.ArgEnd, l.EnvStart, l.EnvEnd)
	return b.Bytes()
}

// Statm is /proc/PID/statm: size resident shared text lib data dt, in pages.
func Statm(p *Proc) []byte {
	if p.state() == Zombie {
		return []byte("0 0 0 0 0 0 0\n")
	}
	v := p.vm()
	return fmt.Appendf(nil, "%d %d %d %d 0 %d 0\n",
		p.VMSize/pageSize, p.RSS/pageSize, (p.RSSFile+p.RSSShmem)/pageSize,
		v.exe/pageSize, (v.data+v.stack)/pageSize)
}

var stateNames = map[byte]string{
	'R': "R (running)", 'S': "S (sleeping)", 'D': "D (disk sleep)",
	'T': "T (stopped)", 't': "t (tracing stop)", 'Z': "Z (zombie)", 'X': "X (dead)",
}

// fdSize is the fd table's size as Linux grows it: 64, then powers of two.
func fdSize(p *Proc) int {
	n := 64
	for _, f := range p.FDs {
		for f.Num >= n {
			n *= 2
		}
	}
	return n
}

// escapeName escapes as proc_task_name: only newline and backslash.
func escapeName(s string) string {
	return strings.NewReplacer("\\", "\\\\", "\n", "\\n").Replace(s)
}

// fullCaps is CAP_LAST_CAP 40's full set (Linux 6.1).
const fullCaps = 0x000001ffffffffff

// Status is /proc/PID/status, the lines of Linux 6.1 for x86-64: one
// thread, one CPU, one memory node.
func Status(p *Proc) []byte {
	var b bytes.Buffer
	kb := func(name string, n uint64) { fmt.Fprintf(&b, "%s:\t%8d kB\n", name, n/1024) }
	fmt.Fprintf(&b, "Name:\t%s\n", escapeName(p.comm()))
	fmt.Fprintf(&b, "Umask:\t%04o\n", p.Umask&0o777)
	fmt.Fprintf(&b, "State:\t%s\n", stateNames[p.state()])
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p.Pid, p.Pid, p.PPid)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\n", p.UID, p.EUID, p.SUID, p.FSUID)
	fmt.Fprintf(&b, "Gid:\t%d\t%d\t%d\t%d\n", p.GID, p.EGID, p.SGID, p.FSGID)
	fmt.Fprintf(&b, "FDSize:\t%d\n", fdSize(p))
	b.WriteString("Groups:\t")
	for i, g := range p.Groups {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(uint64(g), 10))
	}
	b.WriteString(" \n") // Linux's trailing space, kept for whoever splits on it
	fmt.Fprintf(&b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p.Pid, p.Pid, p.Pgid, p.Sid)
	if p.state() != Zombie { // a zombie has no mm: Linux prints no Vm lines
		v := p.vm()
		kb("VmPeak", p.VMSize)
		kb("VmSize", p.VMSize)
		kb("VmLck", 0)
		kb("VmPin", 0)
		kb("VmHWM", p.RSS)
		kb("VmRSS", p.RSS)
		anon := p.RSS - min(p.RSS, p.RSSFile+p.RSSShmem)
		kb("RssAnon", anon)
		kb("RssFile", p.RSSFile)
		kb("RssShmem", p.RSSShmem)
		kb("VmData", v.data)
		kb("VmStk", v.stack)
		kb("VmExe", v.exe)
		kb("VmLib", v.lib)
		kb("VmPTE", 0)
		kb("VmSwap", 0)
		kb("HugetlbPages", 0)
		b.WriteString("CoreDumping:\t0\nTHP_enabled:\t1\n")
	}
	fmt.Fprintf(&b, "Threads:\t1\nSigQ:\t0/%d\n", p.Limits[RlimitSigpending].Cur)
	fmt.Fprintf(&b, "SigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n",
		p.SigPnd, uint64(0), p.SigBlk, p.SigIgn, p.SigCgt)
	var caps uint64
	if p.EUID == 0 {
		caps = fullCaps
	}
	fmt.Fprintf(&b, "CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n",
		0, caps, caps, fullCaps, 0)
	b.WriteString("NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n")
	b.WriteString("Speculation_Store_Bypass:\tthread vulnerable\n")
	b.WriteString("SpeculationIndirectBranch:\tconditional enabled\n")
	b.WriteString("Cpus_allowed:\t1\nCpus_allowed_list:\t0\n")
	// MAX_NUMNODES of Debian's kernel (1024 nodes), node 0 only.
	b.WriteString("Mems_allowed:\t" + strings.Repeat("00000000,", 31) + "00000001\n")
	b.WriteString("Mems_allowed_list:\t0\n")
	b.WriteString("voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n")
	return b.Bytes()
}

// escapePath escapes a path as seq_file_path does in maps: newline only.
func escapePath(s string) string { return strings.ReplaceAll(s, "\n", "\\012") }

// Maps is /proc/PID/maps. A named line pads the path to column 73 as
// Linux's seq_pad does; an anonymous one ends in a space.
func Maps(p *Proc) []byte {
	var b bytes.Buffer
	for _, m := range p.Mappings {
		start := b.Len()
		perm := []byte("---p")
		if m.Prot&ProtR != 0 {
			perm[0] = 'r'
		}
		if m.Prot&ProtW != 0 {
			perm[1] = 'w'
		}
		if m.Prot&ProtX != 0 {
			perm[2] = 'x'
		}
		if m.Shared {
			perm[3] = 's'
		}
		dev := m.Dev
		if dev == "" {
			dev = "00:00"
		}
		fmt.Fprintf(&b, "%08x-%08x %s %08x %s %d ", m.Start, m.End, perm, m.Offset, dev, m.Inode)
		if m.Path != "" {
			for b.Len()-start < 72 {
				b.WriteByte(' ')
			}
			b.WriteByte(' ')
			b.WriteString(escapePath(m.Path))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

var limitRows = [NumRlimits]struct{ name, unit string }{
	{"Max cpu time", "seconds"},
	{"Max file size", "bytes"},
	{"Max data size", "bytes"},
	{"Max stack size", "bytes"},
	{"Max core file size", "bytes"},
	{"Max resident set", "bytes"},
	{"Max processes", "processes"},
	{"Max open files", "files"},
	{"Max locked memory", "bytes"},
	{"Max address space", "bytes"},
	{"Max file locks", "locks"},
	{"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"},
	{"Max nice priority", ""},
	{"Max realtime priority", ""},
	{"Max realtime timeout", "us"},
}

// Limits is /proc/PID/limits, in proc_pid_limits's columns.
func Limits(p *Proc) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	val := func(v uint64) string {
		if v == Infinity {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	for i, r := range limitRows {
		l := p.Limits[i]
		fmt.Fprintf(&b, "%-25s %-20s %-20s ", r.name, val(l.Cur), val(l.Max))
		if r.unit != "" {
			fmt.Fprintf(&b, "%-10s", r.unit)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Cmdline is /proc/PID/cmdline: the argument bytes as they are; a zombie's are empty.
func Cmdline(p *Proc) []byte {
	if p.state() == Zombie {
		return nil
	}
	return bytes.Clone(p.Cmdline)
}

// Environ is /proc/PID/environ.
func Environ(p *Proc) []byte {
	if p.state() == Zombie {
		return nil
	}
	return bytes.Clone(p.Environ)
}

// Comm is /proc/PID/comm.
func Comm(p *Proc) []byte { return []byte(p.comm() + "\n") }

// FDInfo is /proc/PID/fdinfo/N for one descriptor.
func FDInfo(f *FD) []byte {
	return fmt.Appendf(nil, "pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", f.Pos, f.Flags, f.MntID, f.Ino)
}

// fd finds descriptor n.
func (p *Proc) fd(n int) (*FD, bool) {
	for i := range p.FDs {
		if p.FDs[i].Num == n {
			return &p.FDs[i], true
		}
	}
	return nil, false
}
