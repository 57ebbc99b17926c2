package memory

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/machine"
)

func TestSliceBounds(t *testing.T) {
	m, err := New(2 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tests := []struct {
		gpa, n uint64
		ok     bool
	}{
		{0x10000, 16, true},
		{0, 16, false},         // page 0
		{0xfff, 1, false},      // still page 0
		{0x1000, 16, false},    // the GDT
		{0x6000, 8, false},     // the page tables
		{0x4fff0, 32, false},   // into the exception stack
		{0x60000, 8, true},     // the runtime stack
		{2<<20 - 16, 16, true}, // last bytes
		{2<<20 - 16, 17, false},
		{2 << 20, 1, false},
		{0x1000, ^uint64(0), false}, // overflow
		{^uint64(0) - 4, 8, false},
		{0, 0, true}, // empty is always fine
	}
	for _, tc := range tests {
		_, err := m.Slice(tc.gpa, tc.n)
		if (err == nil) != tc.ok {
			t.Errorf("Slice(%#x, %#x) = %v, want ok=%v", tc.gpa, tc.n, err, tc.ok)
		}
		if err != nil && !errors.Is(err, unix.EFAULT) {
			t.Errorf("Slice(%#x, %#x) = %v, want EFAULT", tc.gpa, tc.n, err)
		}
	}
	if _, err := machine.Ptr[uint64](m, 0x10004); err == nil {
		t.Error("unaligned Ptr accepted")
	}
}

func TestLazyAndDiscard(t *testing.T) {
	m, err := New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if r := m.Resident(); r != 0 {
		t.Fatalf("fresh 64 MiB guest holds %d bytes of host memory, want 0", r)
	}
	b, _ := m.Slice(0x200000, 8*PageSize)
	for i := range b {
		b[i] = 0xAA
	}
	if r := m.Resident(); r != 8*PageSize {
		t.Fatalf("after touching 8 pages resident = %d", r)
	}
	if err := m.Discard(0x200000, 8*PageSize); err != nil {
		t.Fatal(err)
	}
	if r := m.Resident(); r != 0 {
		t.Fatalf("after discard resident = %d", r)
	}
	for i, v := range b {
		if v != 0 {
			t.Fatalf("byte %d = %#x after discard, want 0", i, v)
		}
	}
	if err := m.Discard(0x200001, PageSize); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("unaligned discard: %v", err)
	}
}
