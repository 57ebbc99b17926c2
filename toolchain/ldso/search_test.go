// The search order rules, on crafted roots.
package ldso

import (
	"debug/elf"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	glibcInterp = GlibcInterp
	muslInterp  = "/lib/ld-musl-x86_64.so.1"
	sysLib      = "/lib/x86_64-linux-gnu/"
)

// lib is a plain 64-bit x86-64 shared library.
func lib(needed ...string) obj { return obj{needed: needed} }

// prog is a program loaded by glibc's ld.so.
func prog(o obj) obj {
	if o.interp == "" {
		o.interp = glibcInterp
	}
	return o
}

// base is what every glibc root holds: the loader and libc.
func base(t tree) tree {
	t[glibcInterp] = obj{soname: "ld-linux-x86-64.so.2"}
	if _, ok := t[sysLib+"libc.so.6"]; !ok {
		t[sysLib+"libc.so.6"] = obj{soname: "libc.so.6", needed: []string{"ld-linux-x86-64.so.2"}}
	}
	return t
}

func TestSearchOrder(t *testing.T) {
	cases := []struct {
		name   string
		tree   tree
		dlopen []string
		cfg    Config
		want   string // NAME=PATH of each library, in load order, space-separated
		err    string // or a substring of the one-line error
	}{
		{name: "system dirs in order",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libc.so.6", "liba.so"}}),
				"/usr/lib/liba.so": lib(), "/usr/lib/x86_64-linux-gnu/liba.so": lib()}),
			want: "libc.so.6=/lib/x86_64-linux-gnu/libc.so.6 liba.so=/usr/lib/x86_64-linux-gnu/liba.so"},
		{name: "RPATH before the system dirs",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libc.so.6"}, rpath: "/opt/a"}),
				"/opt/a/libc.so.6": lib("ld-linux-x86-64.so.2")}),
			want: "libc.so.6=/opt/a/libc.so.6"},
		{name: "RPATH is inherited by libraries",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}, rpath: "/opt/a"}),
				"/opt/a/liba.so": lib("libb.so"), "/opt/a/libb.so": lib()}),
			want: "liba.so=/opt/a/liba.so libb.so=/opt/a/libb.so"},
		{name: "RPATH of every loader up the chain",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}, rpath: "/opt/p"}),
				"/opt/p/liba.so": obj{needed: []string{"libb.so"}, rpath: "/opt/a"},
				"/opt/a/libb.so": lib("libc.so.6")}),
			want: "liba.so=/opt/p/liba.so libb.so=/opt/a/libb.so libc.so.6=/lib/x86_64-linux-gnu/libc.so.6"},
		{name: "RUNPATH is not inherited",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}, runpath: "/opt/a"}),
				"/opt/a/liba.so": lib("libb.so"), "/opt/a/libb.so": lib()}),
			err: "libb.so (needed by /opt/a/liba.so) not found in system directories"},
		{name: "RUNPATH of the loader stops the RPATH chain",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}, rpath: "/opt/a"}),
				"/opt/a/liba.so": obj{needed: []string{"libb.so"}, runpath: "/opt/r"},
				"/opt/a/libb.so": lib(), "/opt/r/libb.so": lib()}),
			want: "liba.so=/opt/a/liba.so libb.so=/opt/r/libb.so"},
		{name: "RPATH ignored beside RUNPATH",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}, rpath: "/opt/r", runpath: "/opt/u"}),
				"/opt/r/liba.so": lib(), "/opt/u/liba.so": lib()}),
			want: "liba.so=/opt/u/liba.so"},
		{name: "cache before the system dirs",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libx.so.1"}}),
				"/etc/ld.so.cache":   mkCache([]cacheEnt{{flags: cacheFlagsX8664, name: "libx.so.1", path: "/opt/c/libx.so.1"}}, nil),
				"/opt/c/libx.so.1":   lib(),
				"/usr/lib/libx.so.1": lib()}),
			want: "libx.so.1=/opt/c/libx.so.1"},
		{name: "RUNPATH before the cache",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libx.so.1"}, runpath: "/opt/u"}),
				"/etc/ld.so.cache": mkCache([]cacheEnt{{flags: cacheFlagsX8664, name: "libx.so.1", path: "/opt/c/libx.so.1"}}, nil),
				"/opt/c/libx.so.1": lib(), "/opt/u/libx.so.1": lib()}),
			want: "libx.so.1=/opt/u/libx.so.1"},
		{name: "a stale cache entry falls through to the system dirs",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libx.so.1"}}),
				"/etc/ld.so.cache":   mkCache([]cacheEnt{{flags: cacheFlagsX8664, name: "libx.so.1", path: "/gone/libx.so.1"}}, nil),
				"/usr/lib/libx.so.1": lib()}),
			want: "libx.so.1=/usr/lib/libx.so.1"},
		{name: "a corrupt cache is an error",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libx.so.1"}}), "/etc/ld.so.cache": "glibc-ld.so.cache1.1 but short"}),
			err:  "/etc/ld.so.cache: not a \"glibc-ld.so.cache1.1\" cache: run ldconfig to rebuild it"},
		{name: "DF_1_NODEFLIB skips system dirs and their cache entries",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libc.so.6"}, flags1: flag1NoDefl}),
				"/etc/ld.so.cache": mkCache([]cacheEnt{{flags: cacheFlagsX8664, name: "libc.so.6", path: sysLib + "libc.so.6"}}, nil)}),
			err: "libc.so.6 (needed by /bin/p) not found in /etc/ld.so.cache:"},
		{name: "DF_1_NODEFLIB keeps other cache entries",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libx.so"}, flags1: flag1NoDefl}),
				"/etc/ld.so.cache": mkCache([]cacheEnt{{flags: cacheFlagsX8664, name: "libx.so", path: "/opt/libx.so"}}, nil),
				"/opt/libx.so":     lib()}),
			want: "libx.so=/opt/libx.so"},
		{name: "wrong class and machine are skipped",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libz.so"}, runpath: "/opt/32:/opt/arm"}),
				"/opt/32/libz.so":  obj{class: elf.ELFCLASS32},
				"/opt/arm/libz.so": obj{machine: elf.EM_AARCH64},
				"/usr/lib/libz.so": lib()}),
			want: "libz.so=/usr/lib/libz.so"},
		{name: "only another class found",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libz.so"}}), "/usr/lib/libz.so": obj{class: elf.ELFCLASS32}}),
			err:  "libz.so (needed by /bin/p): only /usr/lib/libz.so: wrong ELF class (ELFCLASS32) found"},
		{name: "a file that is not ELF stops the search, as in ld.so",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libz.so"}}), "/lib/x86_64-linux-gnu/libz.so": "INPUT(-lz)\n", "/usr/lib/libz.so": lib()}),
			err:  "libz.so (needed by /bin/p): /lib/x86_64-linux-gnu/libz.so: file too short"},
		{name: "tokens",
			tree: base(tree{"/app/bin/p": prog(obj{needed: []string{"liba.so", "libb.so", "libc.so"}, runpath: "$ORIGIN/../lib:/opt/$LIB/${PLATFORM}:${ORIGIN}x:$ORIGINAL"}),
				"/app/lib/libc.so": "-> /nope", "/app/binx/libc.so": lib(),
				"/opt/lib/x86_64-linux-gnu/x86_64/libb.so": lib(), "/app/lib/liba.so": lib()}),
			want: "liba.so=/app/bin/../lib/liba.so libb.so=/opt/lib/x86_64-linux-gnu/x86_64/libb.so libc.so=/app/binx/libc.so"},
		{name: "tokens in a library's RPATH are its own",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"/opt/a/liba.so"}}),
				"/opt/a/liba.so": obj{needed: []string{"libb.so"}, rpath: "$ORIGIN/sub"}, "/opt/a/sub/libb.so": lib()}),
			want: "/opt/a/liba.so=/opt/a/liba.so libb.so=/opt/a/sub/libb.so"},
		{name: "$PLATFORM and $LIB as configured",
			cfg:  Config{Platform: "haswell", Lib: "lib64"},
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"$LIB/$PLATFORM/liba.so"}}), "/lib64/haswell/liba.so": lib()}),
			want: "lib64/haswell/liba.so=/lib64/haswell/liba.so"},
		{name: "a missing path",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"/opt/none.so"}})}),
			err:  "/opt/none.so (needed by /bin/p): lstat"},
		{name: "the loader answers to its soname",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libc.so.6", "ld-linux-x86-64.so.2"}})}),
			want: "libc.so.6=/lib/x86_64-linux-gnu/libc.so.6"},
		{name: "a loaded library answers to its soname",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"/opt/liba.so.1", "liba.so.1"}}), "/opt/liba.so.1": obj{soname: "liba.so.1"}}),
			want: "/opt/liba.so.1=/opt/liba.so.1"},
		{name: "one file through two names",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so", "libalias.so"}}),
				"/usr/lib/liba.so": lib(), "/usr/lib/libalias.so": "-> liba.so"}),
			want: "liba.so=/usr/lib/liba.so"},
		{name: "a dependency cycle",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}}),
				"/usr/lib/liba.so": lib("libb.so"), "/usr/lib/libb.so": lib("liba.so", "libc.so.6")}),
			want: "liba.so=/usr/lib/liba.so libb.so=/usr/lib/libb.so libc.so.6=/lib/x86_64-linux-gnu/libc.so.6"},
		{name: "breadth first",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so", "libb.so"}}),
				"/usr/lib/liba.so": lib("libc.so.6"), "/usr/lib/libb.so": lib("libd.so"), "/usr/lib/libd.so": lib()}),
			want: "liba.so=/usr/lib/liba.so libb.so=/usr/lib/libb.so libc.so.6=/lib/x86_64-linux-gnu/libc.so.6 libd.so=/usr/lib/libd.so"},
		{name: "glibc-hwcaps only when accepted",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libh.so"}}),
				"/usr/lib/glibc-hwcaps/x86-64-v3/libh.so": lib(), "/usr/lib/libh.so": lib()}),
			want: "libh.so=/usr/lib/libh.so"},
		{name: "glibc-hwcaps preferred when accepted",
			cfg: Config{HWCaps: []string{"x86-64-v3", "x86-64-v2"}},
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libh.so"}}),
				"/usr/lib/glibc-hwcaps/x86-64-v3/libh.so": lib(), "/usr/lib/libh.so": lib()}),
			want: "libh.so=/usr/lib/glibc-hwcaps/x86-64-v3/libh.so"},
		{name: "dlopen libraries and what they need",
			dlopen: []string{"plugin.so", "libc.so.6"},
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libc.so.6"}, runpath: "/opt/plug"}),
				"/opt/plug/plugin.so": lib("libdep.so"), "/usr/lib/libdep.so": lib()}),
			want: "libc.so.6=/lib/x86_64-linux-gnu/libc.so.6 plugin.so=/opt/plug/plugin.so libdep.so=/usr/lib/libdep.so"},
		{name: "a missing dlopen library",
			dlopen: []string{"nope.so"},
			tree:   base(tree{"/bin/p": prog(obj{needed: []string{"libc.so.6"}})}),
			err:    "--lib nope.so: nope.so (needed by /bin/p) not found"},
		{name: "a library of a library missing",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}}), "/usr/lib/liba.so": lib("libgone.so.3")}),
			err:  "libgone.so.3 (needed by /usr/lib/liba.so) not found in system directories /lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib:/usr/lib: install"},
		{name: "symlinks resolve inside the root",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"libs.so.1"}}),
				"/usr/lib/libs.so.1": "-> /usr/lib/real/libs.so.1.2", "/usr/lib/real/libs.so.1.2": lib()}),
			want: "libs.so.1=/usr/lib/libs.so.1"},
		{name: "a looping RUNPATH directory is skipped",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}, runpath: "/opt/loop:/opt/loop/x:/opt/loop/../loop"}),
				"/opt/loop": "-> /opt/loop", "/usr/lib/liba.so": lib()}),
			want: "liba.so=/usr/lib/liba.so"},
		{name: "a RUNPATH of a million directories",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}, runpath: strings.Repeat("/x:", 1<<20)})}),
			err:  "/bin/p: dynamic section: DT_RUNPATH of 1048577 directories, more than 1024"},
		{name: "a RUNPATH that repeats $ORIGIN past PATH_MAX",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}, runpath: strings.Repeat("$ORIGIN/", 2000) + ":" + strings.Repeat("/x:", 1000)}),
				"/usr/lib/liba.so": lib()}),
			want: "liba.so=/usr/lib/liba.so"},
		{name: "a static program",
			tree: tree{"/bin/p": obj{typ: elf.ET_EXEC}},
			want: ""},
		{name: "a shared library on its own",
			tree: base(tree{"/opt/bin/p": obj{needed: []string{"liba.so"}, runpath: "$ORIGIN"}, "/opt/bin/liba.so": lib("libc.so.6")}),
			want: "liba.so=/opt/bin/liba.so libc.so.6=/lib/x86_64-linux-gnu/libc.so.6"},
		{name: "a shared library on its own, musl's rules",
			cfg:  Config{Interp: muslInterp},
			tree: tree{"/bin/p": obj{needed: []string{"libc.so", "liba.so"}}, muslInterp: lib(), "/lib/liba.so": lib()},
			want: "liba.so=/lib/liba.so"},
		{name: "needs without an interpreter",
			tree: tree{"/bin/p": obj{needed: []string{"libc.so.6"}, typ: elf.ET_EXEC}},
			err:  "needs shared libraries but names no interpreter"},
		{name: "a missing interpreter",
			tree: tree{"/bin/p": prog(obj{needed: []string{"libc.so.6"}})},
			err:  "interpreter /lib64/ld-linux-x86-64.so.2: lstat"},
		{name: "a library that is an executable",
			tree: base(tree{"/bin/p": prog(obj{needed: []string{"liba.so"}}), "/usr/lib/liba.so": obj{typ: elf.ET_EXEC}}),
			err:  "/usr/lib/liba.so is an ELF ET_EXEC; only shared objects can be loaded"},

		// musl's rules
		{name: "musl: the loader is libc",
			tree: tree{"/bin/p": obj{interp: muslInterp, needed: []string{"libc.so", "libm.so.6"}}, muslInterp: lib()},
			want: ""},
		{name: "musl: RUNPATH is inherited, then the path file",
			tree: tree{"/bin/p": obj{interp: muslInterp, needed: []string{"liba.so"}, runpath: "$ORIGIN/../l"},
				muslInterp: lib(), "/etc/ld-musl-x86_64.path": "/m1\n/m2:/m3\n",
				"/l/liba.so": lib("libb.so", "libc.so"), "/l/libb.so": lib("libd.so"), "/m3/libd.so": lib(), "/lib/libd.so": lib()},
			want: "liba.so=/bin/../l/liba.so libb.so=/bin/../l/libb.so libd.so=/m3/libd.so"},
		{name: "musl: default path without the path file",
			tree: tree{"/bin/p": obj{interp: muslInterp, needed: []string{"libd.so"}}, muslInterp: lib(),
				"/usr/local/lib/libd.so": lib(), "/usr/lib/libd.so": lib()},
			want: "libd.so=/usr/local/lib/libd.so"},
		{name: "musl: other tokens void the path",
			tree: tree{"/bin/p": obj{interp: muslInterp, needed: []string{"libd.so"}, rpath: "/opt:$LIB"}, muslInterp: lib(),
				"/opt/libd.so": lib(), "/usr/lib/libd.so": lib()},
			want: "libd.so=/usr/lib/libd.so"},
		{name: "musl: wrong class is an error",
			tree: tree{"/bin/p": obj{interp: muslInterp, needed: []string{"libd.so"}}, muslInterp: lib(),
				"/lib/libd.so": obj{class: elf.ELFCLASS32}, "/usr/lib/libd.so": lib()},
			err: "libd.so (needed by /bin/p): /lib/libd.so: wrong ELF class"},
		{name: "musl: missing",
			tree: tree{"/bin/p": obj{interp: muslInterp, needed: []string{"libd.so"}}, muslInterp: lib()},
			err:  "libd.so (needed by /bin/p) not found in the musl path /lib:/usr/local/lib:/usr/lib: install"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := tc.tree.make(t)
			cfg := tc.cfg
			cfg.Root = root
			var p string
			for k := range tc.tree {
				if strings.HasSuffix(k, "/bin/p") {
					p = k
				}
			}
			d, err := Resolve(cfg, filepath.Join(root, p), tc.dlopen)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v, want one line with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range d.Libs {
				got = append(got, l.Name+"="+l.Path)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got  %s\nwant %s", g, tc.want)
			}
		})
	}
}

// TestLinks: each symlink from the loader's path to the file is recorded,
// absolute ones resolved inside the root.
func TestLinks(t *testing.T) {
	root := tree{"/bin/p": prog(obj{needed: []string{"libs.so.1"}}), glibcInterp: lib(),
		"/lib": "-> usr/lib", "/usr/lib/x86_64-linux-gnu/libs.so.1": "-> /usr/lib/real/libs.so.1.2",
		"/usr/lib/real/libs.so.1.2": lib()}.make(t)
	d, err := Resolve(Config{Root: root}, filepath.Join(root, "bin/p"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l := d.Libs[0]
	got := fmt.Sprint(l.Path, " ", l.Real, " ", l.Links)
	want := "/lib/x86_64-linux-gnu/libs.so.1 /usr/lib/real/libs.so.1.2 [{/lib usr/lib} {/usr/lib/x86_64-linux-gnu/libs.so.1 /usr/lib/real/libs.so.1.2}]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if d.Interp.Path != glibcInterp || d.Interp.Real != glibcInterp || len(d.Interp.Links) != 0 {
		t.Errorf("interpreter %+v", d.Interp)
	}
}

// TestHostileELF: malformed objects give one line, never a panic, hang or
// huge allocation.
func TestHostileELF(t *testing.T) {
	good := prog(obj{needed: []string{"libc.so.6"}}).bytes()
	set := func(off int, v ...byte) []byte {
		b := append([]byte(nil), good...)
		copy(b[off:], v)
		return b
	}
	cases := []struct {
		name string
		file any
		err  string
	}{
		{"dynamic segment of 1 TiB", prog(obj{needed: []string{"libc.so.6"}, dynSize: 1 << 40}), "beyond the end of the file"},
		{"needed name beyond the string table", prog(obj{needed: []string{"libc.so.6"}, strOff: 1 << 20}), "beyond the string table"},
		{"program headers beyond the file", set(32, 0, 0, 0, 0, 1), "malformed ELF file"},
		{"65535 program headers", set(56, 0xff, 0xff), "malformed ELF file"},
		{"truncated", good[:40], "truncated ELF header"},
		{"big-endian", set(int(elf.EI_DATA), byte(elf.ELFDATA2MSB)), "not little-endian"},
		{"a core file", set(16, byte(elf.ET_CORE)), "ELF ET_CORE, not a program"},
		{"interpreter longer than a path", prog(obj{interp: strings.Repeat("/x", 3000)}), "longer than a path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := base(tree{"/bin/p": tc.file}).make(t)
			_, err := Resolve(Config{Root: root}, filepath.Join(root, "bin/p"), nil)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// sortedNames is a set's members in order, for messages.
func sortedNames(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}
