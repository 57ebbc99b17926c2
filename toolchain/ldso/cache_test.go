// The ld.so.cache parser: crafted caches, hostile ones, and this
// machine's cache beside what `ldconfig -p` reads from it.
package ldso

import (
	"encoding/binary"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestCacheLookup(t *testing.T) {
	const x64 = cacheFlagsX8664
	ents := []cacheEnt{
		{flags: 0x0003, name: "libi.so", path: "/i386/libi.so"}, // libc6 without x86-64: i386
		{flags: x64, name: "libi.so", path: "/lib/libi.so"},
		{flags: x64, name: "libh.so", path: "/v2/libh.so", hwcap: hwcapExtension, hwcapsIndex: 1},
		{flags: x64, name: "libh.so", path: "/v3/libh.so", hwcap: hwcapExtension, hwcapsIndex: 0},
		{flags: x64, name: "libh.so", path: "/base/libh.so"},
		{flags: x64, name: "libh.so", path: "/base2/libh.so"},
		{flags: x64, name: "libl.so", path: "/legacy/libl.so", hwcap: 1 << 48},
		{flags: x64, name: "libl.so", path: "/lib/libl.so"},
		{flags: x64, name: "libv3only.so", path: "/v3/libv3only.so", hwcap: hwcapExtension, hwcapsIndex: 0},
	}
	c, err := ParseCache(mkCache(ents, []string{"x86-64-v3", "x86-64-v2"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) != len(ents) || c.Entries[3].HWCaps != "x86-64-v3" || c.Entries[2].HWCaps != "x86-64-v2" {
		t.Fatalf("entries %+v", c.Entries)
	}
	cases := []struct {
		name   string
		accept []string
		want   string
	}{
		{"libi.so", nil, "/lib/libi.so"},
		{"libh.so", nil, "/base/libh.so"},
		{"libh.so", []string{"x86-64-v2"}, "/v2/libh.so"},
		{"libh.so", []string{"x86-64-v3", "x86-64-v2"}, "/v3/libh.so"},
		{"libh.so", []string{"x86-64-v4"}, "/base/libh.so"},
		{"libl.so", nil, "/lib/libl.so"},
		{"libv3only.so", nil, ""},
		{"libv3only.so", []string{"x86-64-v3"}, "/v3/libv3only.so"},
		{"libnone.so", nil, ""},
	}
	for _, tc := range cases {
		if got := c.Lookup(tc.name, tc.accept); got != tc.want {
			t.Errorf("Lookup(%s, %v) = %q, want %q", tc.name, tc.accept, got, tc.want)
		}
	}
}

func TestCacheOldFormatPrefix(t *testing.T) {
	old := make([]byte, 16+2*oldEntrySize)
	copy(old, cacheMagicOld)
	binary.LittleEndian.PutUint32(old[12:], 2)
	old = append(old, make([]byte, (8-len(old)%8)%8)...)
	c, err := ParseCache(append(old, mkCache([]cacheEnt{{flags: cacheFlagsX8664, name: "liba.so", path: "/a"}}, nil)...))
	if err != nil || c.Lookup("liba.so", nil) != "/a" {
		t.Fatalf("%v %+v", err, c)
	}
}

func TestCacheHostile(t *testing.T) {
	le := binary.LittleEndian
	good := mkCache([]cacheEnt{{flags: cacheFlagsX8664, name: "liba.so", path: "/a", hwcap: hwcapExtension}}, []string{"x86-64-v3"})
	edit := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	ext := le.Uint32(good[32:])
	plain := mkCache([]cacheEnt{{flags: cacheFlagsX8664, name: "liba.so", path: "/a"}}, nil)
	cases := []struct {
		name string
		b    []byte
		err  string
	}{
		{"empty", nil, "not a"},
		{"other magic", edit(func(b []byte) { b[0] = 'x' }), "not a"},
		{"4 billion entries", edit(func(b []byte) { le.PutUint32(b[20:], 0xffffffff) }), "entries do not fit"},
		{"name beyond the file", edit(func(b []byte) { le.PutUint32(b[cacheHeaderSize+4:], 1<<30) }), "beyond the end"},
		{"unterminated string", plain[:len(plain)-1], "not terminated"},
		{"big-endian", edit(func(b []byte) { b[28] = 3 }), "another byte order"},
		{"extension beyond the file", edit(func(b []byte) { le.PutUint32(b[32:], 1<<30) }), "extension section"},
		{"extension magic", edit(func(b []byte) { b[ext] ^= 1 }), "bad magic"},
		{"a million sections", edit(func(b []byte) { le.PutUint32(b[ext+4:], 1<<20) }), "sections do not fit"},
		{"hwcaps index beyond the names", edit(func(b []byte) { le.PutUint32(b[cacheHeaderSize+16:], 7) }), "glibc-hwcaps index 7"},
		{"old table beyond the file", append([]byte(cacheMagicOld+"\x00\xff\xff\xff\xff"), good...), "beyond the end"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseCache(tc.b); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
	// Every truncation of a valid cache is refused or parsed, never a panic.
	for n := range good {
		ParseCache(good[:n])
	}
}

// TestHostCache: every x86-64 entry of this machine's cache, as ldconfig
// itself lists them.
func TestHostCache(t *testing.T) {
	b, err := os.ReadFile("/etc/ld.so.cache")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCache(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/sbin/ldconfig", "-p").Output()
	if err != nil {
		t.Fatalf("ldconfig -p: %v", err)
	}
	line := regexp.MustCompile(`^\s+(\S+) \(libc6,x86-64(?:, hwcap: "([^"]+)")?\) => (\S+)$`)
	want := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			want[m[1]+" "+m[2]+" "+m[3]] = true
		}
	}
	got := map[string]bool{}
	for _, e := range c.Entries {
		if e.Flags == cacheFlagsX8664 && (e.HWCap == 0 || e.HWCap&hwcapExtension != 0) {
			got[e.Name+" "+e.HWCaps+" "+e.Path] = true
		}
	}
	if len(want) < 10 || strings.Join(sortedNames(got), "\n") != strings.Join(sortedNames(want), "\n") {
		t.Errorf("parsed %d x86-64 entries, ldconfig -p lists %d:\n%v\n%v", len(got), len(want), sortedNames(got), sortedNames(want))
	}
	if p := c.Lookup("libc.so.6", nil); p != "/lib/x86_64-linux-gnu/libc.so.6" {
		t.Errorf("libc.so.6 in the cache: %q", p)
	}
}
