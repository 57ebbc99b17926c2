// The files of /proc outside /proc/PID: the run as one machine of one vCPU.

package procfs

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"strings"
)

// What the guest's uname says (libc-shim/sys_proc.c).
const (
	Release = "6.1.0-ukfork"
	Version = "#1 SMP ukfork"
)

// pidMax is the kernel's bound on pids (hypervisor/kernel's maxPid).
const pidMax = 1 << 22

// System is what the host knows of the run as a whole.
type System struct {
	BootTime int64 // Unix seconds, stat's btime
	UptimeNs int64
	Hostname string
	BootID   string // random/boot_id, a UUID chosen once per run

	MemTotal, MemFree uint64 // bytes

	Procs, Running int // processes of the run now, and those running
	Forks          int // processes created since boot; 0: Procs
	LastPid        int32

	UserNs, SystemNs int64 // CPU time of the run's processes

	Mounts      []Mount
	Filesystems []string // types ukfork mounts; nil: DefaultFilesystems

	// HostCPUInfo is the host's /proc/cpuinfo (its first block is kept).
	HostCPUInfo []byte
}

// Mount is one mount of the guest's namespace.
type Mount struct {
	Source, Target, FSType string
	Root                   string // of the filesystem, mounted at Target; "" reads as "/"
	Options                string // per-mount options: "rw,relatime"
	SuperOptions           string // the filesystem's own, past rw/ro: "size=65536k,mode=755"
	ID, ParentID           int
	Major, Minor           uint32
}

// DefaultFilesystems are the filesystem types ukfork mounts.
var DefaultFilesystems = []string{"tmpfs", "proc", "overlay", "ext4"}

// requiresDev are the types filesystems lists without "nodev".
var requiresDev = map[string]bool{"ext2": true, "ext3": true, "ext4": true, "xfs": true, "btrfs": true, "vfat": true, "iso9660": true}

// mangle escapes a mount field as Linux's mangle(): space, tab, newline, backslash in octal.
func mangle(s string) string {
	return strings.NewReplacer(" ", "\\040", "\t", "\\011", "\n", "\\012", "\\", "\\134").Replace(s)
}

// rwOf is the "rw" or "ro" that leads a mount's options.
func rwOf(opts string) string {
	if opts == "ro" || strings.HasPrefix(opts, "ro,") {
		return "ro"
	}
	return "rw"
}

// Mounts is /proc/mounts and /proc/PID/mounts.
func Mounts(s *System) []byte {
	var b bytes.Buffer
	for _, m := range s.Mounts {
		opts := m.Options
		if opts == "" {
			opts = "rw"
		}
		if m.SuperOptions != "" {
			opts += "," + m.SuperOptions
		}
		fmt.Fprintf(&b, "%s %s %s %s 0 0\n", mangle(m.Source), mangle(m.Target), mangle(m.FSType), mangle(opts))
	}
	return b.Bytes()
}

// MountInfo is /proc/PID/mountinfo: no propagation fields, as a private mount shows.
func MountInfo(s *System) []byte {
	var b bytes.Buffer
	for _, m := range s.Mounts {
		root := m.Root
		if root == "" {
			root = "/"
		}
		opts := m.Options
		if opts == "" {
			opts = "rw"
		}
		super := rwOf(opts)
		if m.SuperOptions != "" {
			super += "," + m.SuperOptions
		}
		fmt.Fprintf(&b, "%d %d %d:%d %s %s %s - %s %s %s\n", m.ID, m.ParentID, m.Major, m.Minor,
			mangle(root), mangle(m.Target), mangle(opts), mangle(m.FSType), mangle(m.Source), mangle(super))
	}
	return b.Bytes()
}

// CPUInfo is /proc/cpuinfo for the guest's one vCPU: the host's first
// block with the topology fields of a lone CPU.
func CPUInfo(s *System) []byte {
	block, _, _ := bytes.Cut(s.HostCPUInfo, []byte("\n\n"))
	if len(bytes.TrimSpace(block)) == 0 {
		block = []byte("processor\t: 0\nvendor_id\t: unknown\nmodel name\t: unknown")
	}
	one := map[string]string{
		"processor": "0", "physical id": "0", "siblings": "1", "core id": "0",
		"cpu cores": "1", "apicid": "0", "initial apicid": "0",
	}
	var b bytes.Buffer
	for _, line := range strings.Split(string(block), "\n") {
		k, _, ok := strings.Cut(line, ":")
		if v, set := one[strings.TrimRight(k, " \t")]; ok && set {
			line = k + ": " + v
		}
		b.WriteString(line + "\n")
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// Meminfo is /proc/meminfo: what the host counts, the rest 0, in the
// lines and order of Linux 6.1.
func Meminfo(s *System) []byte {
	var b bytes.Buffer
	line := func(name string, n uint64, unit bool) {
		fmt.Fprintf(&b, "%-16s%8d", name+":", n)
		if unit {
			b.WriteString(" kB")
		}
		b.WriteByte('\n')
	}
	total, free := s.MemTotal/1024, min(s.MemFree, s.MemTotal)/1024
	kb := map[string]uint64{
		"MemTotal": total, "MemFree": free, "MemAvailable": free,
		"CommitLimit": total / 2, "Committed_AS": total - free,
		"VmallocTotal": 34359738367, // 32 TiB: x86-64 with 4-level tables
		"Hugepagesize": 2048, "DirectMap4k": total,
	}
	for _, n := range []string{"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached",
		"Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
		"Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Zswap", "Zswapped", "Dirty", "Writeback",
		"AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim",
		"KernelStack", "PageTables", "SecPageTables", "NFS_Unstable", "Bounce", "WritebackTmp",
		"CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed", "VmallocChunk", "Percpu",
		"AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped"} {
		line(n, kb[n], true)
	}
	for _, n := range []string{"HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"} {
		line(n, 0, false)
	}
	for _, n := range []string{"Hugepagesize", "Hugetlb", "DirectMap4k", "DirectMap2M", "DirectMap1G"} {
		line(n, kb[n], true)
	}
	return b.Bytes()
}

// idleNs is the time the one vCPU was not running the run's processes.
func (s *System) idleNs() int64 {
	return max(0, s.UptimeNs-s.UserNs-s.SystemNs)
}

// KernelStat is /proc/stat.
func KernelStat(s *System) []byte {
	t := func(ns int64) int64 { return ns / (1e9 / clockTicks) }
	cpu := fmt.Sprintf("%d 0 %d %d 0 0 0 0 0 0\n", t(s.UserNs), t(s.SystemNs), t(s.idleNs()))
	forks := s.Forks
	if forks == 0 {
		forks = s.Procs
	}
	var b bytes.Buffer
	b.WriteString("cpu  " + cpu + "cpu0 " + cpu)
	b.WriteString("intr 0\nctxt 0\n")
	fmt.Fprintf(&b, "btime %d\nprocesses %d\nprocs_running %d\nprocs_blocked 0\n", s.BootTime, forks, s.Running)
	b.WriteString("softirq 0 0 0 0 0 0 0 0 0 0 0\n")
	return b.Bytes()
}

// Uptime is /proc/uptime: seconds up and seconds idle, in hundredths.
func Uptime(s *System) []byte {
	cs := func(ns int64) string { c := ns / 1e7; return fmt.Sprintf("%d.%02d", c/100, c%100) }
	return []byte(cs(s.UptimeNs) + " " + cs(s.idleNs()) + "\n")
}

// Loadavg is /proc/loadavg: no load kept, the run's counts.
func Loadavg(s *System) []byte {
	return fmt.Appendf(nil, "0.00 0.00 0.00 %d/%d %d\n", s.Running, s.Procs, s.LastPid)
}

// KernelVersion is /proc/version, as linux_proc_banner prints uname's fields.
func KernelVersion(*System) []byte {
	return []byte("Linux version " + Release + " (ukfork@ukfork) (ukfork) " + Version + "\n")
}

// Filesystems is /proc/filesystems.
func Filesystems(s *System) []byte {
	types := s.Filesystems
	if types == nil {
		types = DefaultFilesystems
	}
	var b bytes.Buffer
	for _, t := range types {
		if requiresDev[t] {
			b.WriteString("\t" + t + "\n")
		} else {
			b.WriteString("nodev\t" + t + "\n")
		}
	}
	return b.Bytes()
}

// The files of /proc/sys this package knows.

func PidMax(*System) []byte           { return fmt.Appendf(nil, "%d\n", pidMax) }
func OSRelease(*System) []byte        { return []byte(Release + "\n") }
func Hostname(s *System) []byte       { return []byte(s.Hostname + "\n") }
func NgroupsMax(*System) []byte       { return []byte("65536\n") }
func OvercommitMemory(*System) []byte { return []byte("0\n") }

// BootID is random/boot_id: the run's, or a fixed one if the caller has none.
func BootID(s *System) []byte {
	if s.BootID == "" {
		return []byte("00000000-0000-4000-8000-000000000000\n")
	}
	return []byte(s.BootID + "\n")
}

// UUID is random/uuid: a new random (version 4) UUID at every read.
func UUID(*System) []byte { return []byte(NewUUID() + "\n") }

// NewUUID makes a random UUID as the kernel's generate_random_uuid does.
func NewUUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
