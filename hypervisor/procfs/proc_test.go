// Tests of the /proc/PID files: hand-written expected text, and formats beside this host's /proc/self.

package procfs

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func fakeProc() *Proc {
	p := &Proc{
		Pid: 4097, PPid: 4096, Pgid: 4096, Sid: 4090,
		Comm: "a-very-long-command-name", State: Sleeping,
		Exe: "/bin/busybox", Cwd: "/data", Umask: 0o022,
		UID: 1000, EUID: 1000, SUID: 1000, FSUID: 1000,
		GID: 100, EGID: 100, SGID: 100, FSGID: 100,
		Groups: []uint32{100, 27},
		Nice:   5, StartTime: 1_230_000_000, UserNs: 50_000_000, SystemNs: 20_000_000,
		VMSize: 8 << 20, RSS: 1 << 20, RSSFile: 256 << 10,
		SigBlk: 1 << 16, SigIgn: 1 << 12, SigCgt: 1<<1 | 1<<16,
		FDs: []FD{
			{Num: 3, Target: "pipe:[12]", Flags: 0o1, Ino: 12, MntID: 9},
			{Num: 0, Target: "/dev/null", Pos: 17, Flags: 0o2100000, Ino: 5, MntID: 3},
		},
		Mappings: []Mapping{
			{Start: 0x400000, End: 0x402000, Prot: ProtR | ProtX, Offset: 0x1000, Dev: "00:1f", Inode: 33, Path: "/bin/busybox"},
			{Start: 0x600000, End: 0x603000, Prot: ProtR | ProtW, Path: "[heap]"},
			{Start: 0x7f0000000000, End: 0x7f0000004000, Prot: ProtR | ProtW},
			{Start: 0x7f0000010000, End: 0x7f0000011000, Prot: ProtR | ProtX, Dev: "00:1f", Inode: 40, Path: "/lib/libc.so"},
			{Start: 0x7f0000020000, End: 0x7f0000021000, Prot: ProtR, Shared: true, Inode: 41, Path: "/tmp/a b\nc"},
			{Start: 0x7ffffffde000, End: 0x7ffffffff000, Prot: ProtR | ProtW, Path: "[stack]"},
		},
		Layout:  Layout{StartCode: 0x400000, EndCode: 0x402000, StartStack: 0x7fffffffe000},
		Cmdline: []byte("sh\x00-c\x00sleep 1\x00"),
		Environ: []byte("HOME=/\x00"),
	}
	for i := range p.Limits {
		p.Limits[i] = Limit{Infinity, Infinity}
	}
	p.Limits[RlimitStack] = Limit{8 << 20, Infinity}
	p.Limits[RlimitCore] = Limit{0, Infinity}
	p.Limits[RlimitNofile] = Limit{1024, 4096}
	p.Limits[RlimitSigpending] = Limit{3000, 3000}
	p.Limits[RlimitNice] = Limit{0, 0}
	p.Limits[RlimitRtprio] = Limit{0, 0}
	return p
}

func TestProcFiles(t *testing.T) {
	p := fakeProc()
	zombie := &Proc{Pid: 9, PPid: 1, Pgid: 9, Sid: 9, Comm: "x", State: Zombie, Cmdline: []byte("x\x00")}
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"stat", Stat(p), "4097 (a-very-long-com) S 4096 4096 4090 0 -1 4194304 0 0 0 0 5 2 0 0 25 5 1 0 123 8388608 256 " +
			"18446744073709551615 4194304 4202496 140737488347136 0 0 0 65536 4096 65538 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"},
		{"statm", Statm(p), "2048 256 64 2 0 40 0\n"},
		{"maps", Maps(p), "" +
			"00400000-00402000 r-xp 00001000 00:1f 33                                 /bin/busybox\n" +
			"00600000-00603000 rw-p 00000000 00:00 0                                  [heap]\n" +
			"7f0000000000-7f0000004000 rw-p 00000000 00:00 0 \n" +
			"7f0000010000-7f0000011000 r-xp 00000000 00:1f 40                         /lib/libc.so\n" +
			"7f0000020000-7f0000021000 r--s 00000000 00:00 41                         /tmp/a b\\012c\n" +
			"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"},
		{"limits", Limits(p), "" +
			"Limit                     Soft Limit           Hard Limit           Units     \n" +
			"Max cpu time              unlimited            unlimited            seconds   \n" +
			"Max file size             unlimited            unlimited            bytes     \n" +
			"Max data size             unlimited            unlimited            bytes     \n" +
			"Max stack size            8388608              unlimited            bytes     \n" +
			"Max core file size        0                    unlimited            bytes     \n" +
			"Max resident set          unlimited            unlimited            bytes     \n" +
			"Max processes             unlimited            unlimited            processes \n" +
			"Max open files            1024                 4096                 files     \n" +
			"Max locked memory         unlimited            unlimited            bytes     \n" +
			"Max address space         unlimited            unlimited            bytes     \n" +
			"Max file locks            unlimited            unlimited            locks     \n" +
			"Max pending signals       3000                 3000                 signals   \n" +
			"Max msgqueue size         unlimited            unlimited            bytes     \n" +
			"Max nice priority         0                    0                    \n" +
			"Max realtime priority     0                    0                    \n" +
			"Max realtime timeout      unlimited            unlimited            us        \n"},
		{"cmdline", Cmdline(p), "sh\x00-c\x00sleep 1\x00"},
		{"environ", Environ(p), "HOME=/\x00"},
		{"comm", Comm(p), "a-very-long-com\n"},
		{"zombie cmdline", Cmdline(zombie), ""},
		{"zombie stat", Stat(&Proc{Pid: 9, PPid: 1, Pgid: 9, Sid: 9, Comm: "x", State: Zombie, VMSize: 1 << 20, Layout: Layout{StartCode: 1}}),
			"9 (x) Z 1 9 9 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"},
		{"zombie statm", Statm(zombie), "0 0 0 0 0 0 0\n"},
		{"fdinfo", FDInfo(&p.FDs[1]), "pos:\t17\nflags:\t02100000\nmnt_id:\t3\nino:\t5\n"},
		{"fdinfo rdonly", FDInfo(&FD{}), "pos:\t0\nflags:\t00\nmnt_id:\t0\nino:\t0\n"},
		{"status", Status(p), "Name:\ta-very-long-com\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4097\nNgid:\t0\n" +
			"Pid:\t4097\nPPid:\t4096\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n" +
			"FDSize:\t64\nGroups:\t100 27 \nNStgid:\t4097\nNSpid:\t4097\nNSpgid:\t4096\nNSsid:\t4090\n" +
			"VmPeak:\t    8192 kB\nVmSize:\t    8192 kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\n" +
			"VmHWM:\t    1024 kB\nVmRSS:\t    1024 kB\nRssAnon:\t     768 kB\nRssFile:\t     256 kB\n" +
			"RssShmem:\t       0 kB\nVmData:\t      28 kB\nVmStk:\t     132 kB\nVmExe:\t       8 kB\n" +
			"VmLib:\t       4 kB\nVmPTE:\t       0 kB\nVmSwap:\t       0 kB\nHugetlbPages:\t       0 kB\n" +
			"CoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t1\nSigQ:\t0/3000\n" +
			"SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000010000\n" +
			"SigIgn:\t0000000000001000\nSigCgt:\t0000000000010002\n" +
			"CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n" +
			"CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n" +
			"NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n" +
			"Speculation_Store_Bypass:\tthread vulnerable\nSpeculationIndirectBranch:\tconditional enabled\n" +
			"Cpus_allowed:\t1\nCpus_allowed_list:\t0\n" +
			"Mems_allowed:\t" + strings.Repeat("00000000,", 31) + "00000001\nMems_allowed_list:\t0\n" +
			"voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", tt.got, tt.want)
			}
		})
	}
}

func TestStatusEdges(t *testing.T) {
	tests := []struct {
		name string
		p    Proc
		line string
	}{
		{"escaped name", Proc{Comm: "a\nb\\c"}, "Name:\ta\\nb\\\\c\n"},
		{"no groups", Proc{}, "Groups:\t \n"},
		{"big fd table", Proc{FDs: []FD{{Num: 251}}}, "FDSize:\t256\n"},
		{"root caps", Proc{}, "CapEff:\t000001ffffffffff\n"},
		{"zombie", Proc{State: Zombie}, "State:\tZ (zombie)\n"},
		{"stopped", Proc{State: Stopped}, "State:\tT (stopped)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s := string(Status(&tt.p)); !strings.Contains(s, tt.line) {
				t.Errorf("status lacks %q:\n%s", tt.line, s)
			}
		})
	}
	if s := string(Status(&Proc{State: Zombie})); strings.Contains(s, "VmSize") {
		t.Errorf("a zombie's status shows VmSize:\n%s", s)
	}
}

// hostFile reads this machine's /proc: the formats are checked against Linux itself.
func hostFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("/proc/" + name)
	if err != nil {
		t.Fatalf("reading the host's /proc/%s: %v", name, err)
	}
	return b
}

// statFields splits stat past the comm, which may hold spaces and parentheses.
func statFields(b []byte) []string {
	i := bytes.LastIndexByte(b, ')')
	return append([]string{"pid", "comm"}, strings.Fields(string(b[i+1:]))...)
}

func TestStatAsHost(t *testing.T) {
	host := statFields(hostFile(t, "self/stat"))
	if len(host) != 52 {
		t.Fatalf("host stat has %d fields", len(host))
	}
	for _, p := range []*Proc{fakeProc(), {Comm: "a) (b c"}, {State: Zombie}} {
		ours := Stat(p)
		if f := statFields(ours); len(f) != len(host) {
			t.Errorf("stat has %d fields, the host's %d: %q", len(f), len(host), ours)
		}
		if !bytes.HasSuffix(ours, []byte("\n")) {
			t.Errorf("stat does not end in a newline: %q", ours)
		}
	}
	if f := strings.Fields(string(hostFile(t, "self/statm"))); len(f) != len(strings.Fields(string(Statm(fakeProc())))) {
		t.Errorf("statm has a field count other than the host's %d", len(f))
	}
}

// lineNames are the names before ':' of a file of "Name:\tvalue" lines.
func lineNames(b []byte) map[string]bool {
	names := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		k, _, _ := strings.Cut(l, ":")
		names[k] = true
	}
	return names
}

func TestStatusAsHost(t *testing.T) {
	host := lineNames(hostFile(t, "self/status"))
	ours := Status(fakeProc())
	for _, l := range strings.Split(strings.TrimSuffix(string(ours), "\n"), "\n") {
		k, _, ok := strings.Cut(l, ":\t")
		if !ok {
			t.Errorf("status line %q is not Name:\\tvalue", l)
		}
		if !host[k] {
			t.Errorf("status line %q is not in the host's status", k)
		}
	}
	// The host's line for the same field is laid out as ours (kB widths, tabs).
	hostLines := strings.Split(string(hostFile(t, "self/status")), "\n")
	for _, name := range []string{"VmSize", "VmRSS", "Uid", "SigBlk", "CapBnd", "Mems_allowed"} {
		for _, h := range hostLines {
			if !strings.HasPrefix(h, name+":") {
				continue
			}
			o := ""
			for _, l := range strings.Split(string(ours), "\n") {
				if strings.HasPrefix(l, name+":") {
					o = l
				}
			}
			if len(o) != len(h) && name != "Uid" {
				t.Errorf("status %s: ours %q, the host's %q differ in width", name, o, h)
			}
			if strings.Count(o, "\t") != strings.Count(h, "\t") {
				t.Errorf("status %s: ours %q, the host's %q differ in tabs", name, o, h)
			}
		}
	}
}

func TestLimitsAsHost(t *testing.T) {
	host := strings.Split(string(hostFile(t, "self/limits")), "\n")
	ours := strings.Split(string(Limits(fakeProc())), "\n")
	if host[0] != ours[0] {
		t.Errorf("limits header %q, the host's %q", ours[0], host[0])
	}
	if len(host) != len(ours) {
		t.Fatalf("limits has %d lines, the host's %d", len(ours), len(host))
	}
	for i := 1; i < len(host)-1; i++ {
		if host[i][:26] != ours[i][:26] {
			t.Errorf("limits line %d: %q, the host's %q", i, ours[i][:26], host[i][:26])
		}
		// Units start at the same column when both values are "unlimited" or short.
		hu, ou := strings.TrimSpace(host[i][68:]), strings.TrimSpace(ours[i][68:])
		if hu != ou {
			t.Errorf("limits line %d units %q, the host's %q", i, ou, hu)
		}
		if len(host[i]) != len(ours[i]) {
			t.Errorf("limits line %d is %d long, the host's %d", i, len(ours[i]), len(host[i]))
		}
	}
}

func TestMapsAsHost(t *testing.T) {
	host := strings.Split(strings.TrimSuffix(string(hostFile(t, "self/maps")), "\n"), "\n")
	// A host line of the same address width puts its path where ours does.
	compared := false
	for _, h := range host {
		name := strings.Fields(h)
		if len(name) != 6 || len(name[0]) != 25 {
			continue
		}
		ours := Maps(&Proc{Mappings: []Mapping{{Start: 0x7f0000000000, End: 0x7f0000001000, Prot: ProtR, Path: name[5]}}})
		compared = true
		if got, want := strings.Index(string(ours), name[5]), strings.Index(h, name[5]); got != want {
			t.Errorf("maps puts a path at column %d, the host at %d (%q)", got, want, h)
		}
		break
	}
	if !compared {
		t.Errorf("no host maps line to compare with:\n%s", strings.Join(host, "\n"))
	}
	for _, h := range host {
		if f := strings.Fields(h); len(f) == 5 && !strings.HasSuffix(h, " ") {
			t.Errorf("host anonymous mapping %q has no trailing space", h)
		}
	}
}

func TestFDInfoAsHost(t *testing.T) {
	host := lineNames(hostFile(t, "self/fdinfo/0"))
	for k := range lineNames(FDInfo(&FD{})) {
		if !host[k] {
			t.Errorf("fdinfo line %q is not in the host's", k)
		}
	}
}
