package machine

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// ram is a Memory over plain bytes whose Translate walks its own tables.
type ram []byte

func (r ram) Size() uint64 { return uint64(len(r)) }
func (r ram) Slice(gpa, n uint64) ([]byte, error) {
	if !InRange(gpa, n, r.Size()) {
		return nil, unix.EFAULT
	}
	return r[gpa : gpa+n : gpa+n], nil
}
func (r ram) Translate(va uint64, write bool) (uint64, error) { return Walk(r, va, write) }
func (ram) Discard(uint64, uint64) error                      { return nil }
func (ram) MapShared(uint64, Chunk) error                     { return nil }
func (ram) UnmapShared(uint64) error                          { return nil }
func (ram) Resident() uint64                                  { return 0 }

const (
	user = pteP | pteUS
	rw   = user | pteRW
)

// tables maps, below 16 MiB of RAM: va 0x400000 (RW) and 0x401000 (RO) to
// frames 0x800000 and 0x700000 (scattered), 0x402000 not present, a 2 MiB
// page at va 0x600000 onto 0xa00000, and one supervisor-only page.
func tables() ram {
	r := make(ram, 16<<20)
	put := func(at, v uint64) { binary.LittleEndian.PutUint64(r[at:], v) }
	const pdpt, pd, pt = 0x20000, 0x21000, 0x22000
	put(abi.PML4Addr, pdpt|rw)
	put(pdpt, pd|rw)
	put(pd+2*8, pt|rw)               // [0x400000, 0x600000)
	put(pd+3*8, 0xa00000|rw|ptePS)   // [0x600000, 0x800000)
	put(pt+0*8, 0x800000|rw)         // 0x400000
	put(pt+1*8, 0x700000|user)       // 0x401000, read-only
	put(pt+3*8, 0x900000|pteP|pteRW) // 0x403000, supervisor-only
	put(pt+4*8, 0x7f_ffff_f000|rw)   // 0x404000, outside RAM
	return r
}

func TestWalk(t *testing.T) {
	r := tables()
	tests := []struct {
		va    uint64
		write bool
		pa    uint64
		ok    bool
	}{
		{0x400123, true, 0x800123, true},
		{0x401ff8, false, 0x700ff8, true},
		{0x401000, true, 0, false},  // read-only
		{0x402000, false, 0, false}, // not present
		{0x403000, false, 0, false}, // supervisor-only
		{0x6abcde, true, 0xaabcde, true},
		{0x800000, false, 0, false},
		{1 << 47, false, 0, false},
	}
	for _, tc := range tests {
		pa, err := Walk(r, tc.va, tc.write)
		if (err == nil) != tc.ok || (tc.ok && pa != tc.pa) {
			t.Errorf("Walk(%#x, write %v) = %#x, %v; want %#x, ok %v", tc.va, tc.write, pa, err, tc.pa, tc.ok)
		}
	}
	// An entry pointing outside RAM is EFAULT at use, not a host fault.
	if pa, err := Walk(r, 0x404000, false); err == nil {
		if _, err := r.Slice(pa, 1); err == nil {
			t.Errorf("va 0x404000 reached pa %#x outside RAM", pa)
		}
	}
}

func TestSegments(t *testing.T) {
	r := tables()
	// Two scattered frames are two slices; a read may cross onto the
	// read-only one, a write may not.
	segs, err := Segments(r, 0x400ff0, 0x20, false)
	if err != nil || len(segs) != 2 || len(segs[0]) != 0x10 || len(segs[1]) != 0x10 {
		t.Fatalf("read across two frames: %d segments, %v", len(segs), err)
	}
	segs, err = Segments(r, 0x400ff0, 0x20, true)
	if !errors.Is(err, unix.EFAULT) || len(segs) != 1 || len(segs[0]) != 0x10 {
		t.Fatalf("write onto a read-only page: %d segments, %v; want the prefix and EFAULT", len(segs), err)
	}
	// Read and Write go through the same walk.
	if err := Write(r, 0x400ffe, []byte{1, 2, 3}); err == nil {
		t.Error("Write onto a read-only page succeeded")
	}
	if err := Write(r, 0x400ffc, []byte{1, 2, 3, 4}); err != nil || r[0x800ffc] != 1 || r[0x800fff] != 4 {
		t.Errorf("Write at the end of a frame: %v", err)
	}
	r[0x700000] = 9
	b := make([]byte, 5)
	if err := Read(r, 0x400ffc, b); err != nil || b[4] != 9 {
		t.Errorf("Read across frames = %v, %v", b, err)
	}
	if _, err := Slice(r, 0x400ff0, 0x20, false); err == nil {
		t.Error("Slice over scattered frames succeeded; want EFAULT")
	}
	if s, err := Slice(r, 0x600000, 8192, true); err != nil || len(s) != 8192 {
		t.Errorf("Slice in a 2 MiB page: %d, %v", len(s), err)
	}
}
