package vfs

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// The runtime checks a pointer request's buffer with its own copy of the
// sizes: it must name every pointer request of the table, with its size.
func TestShimIoctlSizes(t *testing.T) {
	src, err := os.ReadFile("../../libc-shim/sys_fs.c")
	if err != nil {
		t.Fatal(err)
	}
	shim := map[uint64]int{}
	for _, m := range regexp.MustCompile(`\{ (0x[0-9a-f]+), (\d+) \},`).FindAllSubmatch(src, -1) {
		req, _ := strconv.ParseUint(string(m[1]), 0, 64)
		size, _ := strconv.Atoi(string(m[2]))
		shim[req] = size
	}
	want := map[uint64]int{0x5421: 4, 0x5452: 4} // FIONBIO, FIOASYNC: // served by the host before the table
	for req, a := range Ioctls {
		if a.Size > 0 {
			want[req] = a.Size
		}
	}
	for req, size := range want {
		if shim[req] != size {
			t.Errorf("request %#x: the runtime checks %d bytes, the host uses %d", req, shim[req], size)
		}
	}
	for req := range shim {
		if _, ok := want[req]; !ok {
			t.Errorf("request %#x: the runtime lists it, the host does not serve it", req)
		}
	}
}
