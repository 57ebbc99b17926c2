// Tests of the /proc system files: hand-written expected text, and formats beside this host's.

package procfs

import (
	"regexp"
	"strings"
	"testing"
)

func fakeSystem() *System {
	return &System{
		BootTime: 1796160117, UptimeNs: 12_345_678_901, Hostname: "box",
		BootID:   "8d7a2c2e-3f5b-4b8e-9d6c-0a1b2c3d4e5f",
		MemTotal: 128 << 20, MemFree: 100 << 20,
		Procs: 3, Running: 1, LastPid: 4099, Forks: 5,
		UserNs: 2_000_000_000, SystemNs: 345_678_901,
		Mounts: []Mount{
			{Source: "overlay", Target: "/", FSType: "overlay", Options: "rw,relatime", SuperOptions: "lowerdir=image", ID: 1, ParentID: 0, Major: 0, Minor: 30},
			{Source: "proc", Target: "/proc", FSType: "proc", Options: "rw,nosuid,nodev,noexec,relatime", ID: 2, ParentID: 1, Minor: 31},
			{Source: "/home/u/my data", Target: "/data", FSType: "ext4", Options: "ro,relatime", Root: "/vol", ID: 3, ParentID: 1, Major: 254, Minor: 0},
		},
		HostCPUInfo: []byte("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nsiblings\t: 2\n" +
			"core id\t\t: 0\ncpu cores\t: 2\nflags\t\t: fpu sse2\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n\n"),
	}
}

func TestSystemFiles(t *testing.T) {
	s := fakeSystem()
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"mounts", Mounts(s), "overlay / overlay rw,relatime,lowerdir=image 0 0\n" +
			"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n" +
			"/home/u/my\\040data /data ext4 ro,relatime 0 0\n"},
		{"mountinfo", MountInfo(s), "1 0 0:30 / / rw,relatime - overlay overlay rw,lowerdir=image\n" +
			"2 1 0:31 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n" +
			"3 1 254:0 /vol /data ro,relatime - ext4 /home/u/my\\040data ro\n"},
		{"cpuinfo", CPUInfo(s), "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nsiblings\t: 1\n" +
			"core id\t\t: 0\ncpu cores\t: 1\nflags\t\t: fpu sse2\n\n"},
		{"stat", KernelStat(s), "cpu  200 0 34 1000 0 0 0 0 0 0\ncpu0 200 0 34 1000 0 0 0 0 0 0\n" +
			"intr 0\nctxt 0\nbtime 1796160117\nprocesses 5\nprocs_running 1\nprocs_blocked 0\n" +
			"softirq 0 0 0 0 0 0 0 0 0 0 0\n"},
		{"uptime", Uptime(s), "12.34 10.00\n"},
		{"loadavg", Loadavg(s), "0.00 0.00 0.00 1/3 4099\n"},
		{"version", KernelVersion(s), "Linux version 6.1.0-ukfork (ukfork@ukfork) (ukfork) #1 SMP ukfork\n"},
		{"filesystems", Filesystems(s), "nodev\ttmpfs\nnodev\tproc\nnodev\toverlay\n\text4\n"},
		{"pid_max", PidMax(s), "4194304\n"},
		{"osrelease", OSRelease(s), "6.1.0-ukfork\n"},
		{"hostname", Hostname(s), "box\n"},
		{"ngroups_max", NgroupsMax(s), "65536\n"},
		{"boot_id", BootID(s), "8d7a2c2e-3f5b-4b8e-9d6c-0a1b2c3d4e5f\n"},
		{"overcommit_memory", OvercommitMemory(s), "0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", tt.got, tt.want)
			}
		})
	}
}

func TestMeminfo(t *testing.T) {
	m := string(Meminfo(fakeSystem()))
	for _, l := range []string{
		"MemTotal:         131072 kB\n", "MemFree:          102400 kB\n", "MemAvailable:     102400 kB\n",
		"Buffers:               0 kB\n", "Cached:                0 kB\n", "SwapTotal:             0 kB\n",
		"SwapFree:              0 kB\n", "HugePages_Total:       0\n", "VmallocTotal:   34359738367 kB\n",
	} {
		if !strings.Contains(m, l) {
			t.Errorf("meminfo lacks %q:\n%s", l, m)
		}
	}
	if !strings.HasPrefix(m, "MemTotal:") {
		t.Errorf("meminfo does not start with MemTotal (free(1) and psutil read it first):\n%s", m)
	}
}

func TestUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$`)
	a, b := UUID(nil), UUID(nil)
	if !re.Match(a) || string(a) == string(b) {
		t.Errorf("random/uuid gave %q then %q", a, b)
	}
	if !re.Match(hostFile(t, "sys/kernel/random/boot_id")) || !re.Match(BootID(&System{})) {
		t.Errorf("boot_id formats differ: host %q, ours %q", hostFile(t, "sys/kernel/random/boot_id"), BootID(&System{}))
	}
}

func TestSystemAsHost(t *testing.T) {
	// meminfo: every line ours is one the host has, at the same width.
	host := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(hostFile(t, "meminfo")), "\n"), "\n") {
		k, _, _ := strings.Cut(l, ":")
		host[k] = l
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(Meminfo(fakeSystem())), "\n"), "\n") {
		k, _, _ := strings.Cut(l, ":")
		h, ok := host[k]
		if !ok {
			t.Errorf("meminfo line %q is not in the host's", k)
			continue
		}
		if len(h) < 30 && len(l) != len(h) && len(strings.Fields(h)[1]) <= 8 {
			t.Errorf("meminfo %q is laid out unlike the host's %q", l, h)
		}
		if strings.HasSuffix(h, " kB") != strings.HasSuffix(l, " kB") {
			t.Errorf("meminfo %q and the host's %q differ in unit", l, h)
		}
	}

	// stat: cpu lines have the host's field count; the named lines are the host's.
	hostStat := map[string][]string{}
	for _, l := range strings.Split(string(hostFile(t, "stat")), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			hostStat[f[0]] = f
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(KernelStat(fakeSystem())), "\n"), "\n") {
		f := strings.Fields(l)
		h, ok := hostStat[f[0]]
		switch {
		case !ok:
			t.Errorf("stat line %q is not in the host's", f[0])
		case f[0] == "intr":
		case len(h) != len(f):
			t.Errorf("stat line %q has %d fields, the host's %d", f[0], len(f), len(h))
		}
	}
	if !strings.HasPrefix(string(hostFile(t, "stat")), "cpu  ") || !strings.HasPrefix(string(KernelStat(fakeSystem())), "cpu  ") {
		t.Error("stat's cpu line does not start with two spaces")
	}

	// uptime, loadavg, version: the host's shapes.
	shapes := []struct {
		name string
		re   string
		ours []byte
	}{
		{"uptime", `^\d+\.\d\d \d+\.\d\d\n$`, Uptime(fakeSystem())},
		{"loadavg", `^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+\n$`, Loadavg(fakeSystem())},
		{"version", `^Linux version \S+ \(\S+@\S+\) \(.*\) #\d+ SMP.*\n$`, KernelVersion(nil)},
		{"filesystems", `^((nodev)?\t\w+\n)+$`, Filesystems(fakeSystem())},
		{"sys/kernel/pid_max", `^\d+\n$`, PidMax(nil)},
		{"sys/kernel/ngroups_max", `^\d+\n$`, NgroupsMax(nil)},
		{"sys/vm/overcommit_memory", `^[012]\n$`, OvercommitMemory(nil)},
		{"sys/kernel/osrelease", `^\S+\n$`, OSRelease(nil)},
	}
	for _, sh := range shapes {
		re := regexp.MustCompile(sh.re)
		if h := hostFile(t, sh.name); !re.Match(h) {
			t.Errorf("host %s %q does not match %s", sh.name, h, sh.re)
		}
		if !re.Match(sh.ours) {
			t.Errorf("our %s %q does not match %s", sh.name, sh.ours, sh.re)
		}
	}

	// mountinfo: the host's field layout, "-" at the same place.
	hostMI := strings.Fields(strings.Split(string(hostFile(t, "self/mountinfo")), "\n")[0])
	ourMI := strings.Fields(strings.Split(string(MountInfo(fakeSystem())), "\n")[0])
	if len(hostMI) != len(ourMI) || hostMI[6] != "-" || ourMI[6] != "-" {
		t.Errorf("mountinfo %q, the host's %q", ourMI, hostMI)
	}
	if h, o := strings.Fields(strings.Split(string(hostFile(t, "self/mounts")), "\n")[0]), strings.Fields(string(Mounts(fakeSystem()))); len(h) != 6 || len(o) < 6 || o[4] != "0" || o[5] != "0" {
		t.Errorf("mounts %q, the host's %q", o, h)
	}
}

func TestCPUInfoOfHost(t *testing.T) {
	host := hostFile(t, "cpuinfo")
	ours := string(CPUInfo(&System{HostCPUInfo: host}))
	if strings.Count(ours, "processor\t:") != 1 || !strings.HasPrefix(ours, "processor\t: 0\n") || !strings.HasSuffix(ours, "\n\n") {
		t.Errorf("cpuinfo of one CPU from the host's:\n%s", ours)
	}
	first, _, _ := strings.Cut(string(host), "\n\n")
	for _, l := range strings.Split(first, "\n") {
		if strings.HasPrefix(l, "model name") || strings.HasPrefix(l, "flags") {
			if !strings.Contains(ours, l+"\n") {
				t.Errorf("cpuinfo lacks the host's %q", l)
			}
		}
	}
	if strings.Contains(ours, "siblings") && !strings.Contains(ours, "siblings\t: 1\n") {
		t.Errorf("cpuinfo keeps the host's siblings:\n%s", ours)
	}
	if got := CPUInfo(&System{}); !strings.HasPrefix(string(got), "processor\t: 0\n") {
		t.Errorf("cpuinfo without the host's: %q", got)
	}
}
