// Fuzz targets: any bytes as an object or a cache give a value or an
// error, never a panic or a huge allocation.
package ldso

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzReadELF(f *testing.F) {
	f.Add(prog(obj{needed: []string{"libc.so.6", "liba.so"}, rpath: "$ORIGIN", soname: "x"}).bytes())
	f.Add(obj{class: 1}.bytes())
	p := filepath.Join(f.TempDir(), "obj")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		readELF(p)
	})
}

func FuzzParseCache(f *testing.F) {
	f.Add(mkCache([]cacheEnt{{flags: cacheFlagsX8664, name: "liba.so", path: "/a", hwcap: hwcapExtension}}, []string{"x86-64-v3"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := ParseCache(b); err == nil {
			c.Lookup("liba.so", []string{"x86-64-v3"})
		}
	})
}
