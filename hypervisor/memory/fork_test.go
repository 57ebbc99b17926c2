package memory

import (
	"bytes"
	"testing"
)

func fill(t *testing.T, m *Memory, gpa uint64, n int, v byte) {
	t.Helper()
	b, err := m.Slice(gpa, uint64(n))
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = v
	}
}

func expect(t *testing.T, m *Memory, gpa uint64, n int, v byte, what string) {
	t.Helper()
	b, err := m.Slice(gpa, uint64(n))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, bytes.Repeat([]byte{v}, n)) {
		t.Fatalf("%s: guest %#x+%d is not all %#x (first byte %#x)", what, gpa, n, v, b[0])
	}
}

// TestForkIsolation: parent and children see the memory of the moment of
// the fork and never each other's later writes, over repeated forks.
func TestForkIsolation(t *testing.T) {
	p, err := New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fill(t, p, 0x100000, 3<<20, 1) // spans chunks 0-1
	var kids []*Memory
	for gen := byte(1); gen <= 5; gen++ {
		c, err := p.Fork()
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, c)
		expect(t, c, 0x100000, 3<<20, gen, "child right after fork")
		fill(t, c, 0x200000, 4096, 0xee) // the child writes; the parent must not see it
		expect(t, p, 0x200000, 4096, gen, "parent after child's write")
		fill(t, p, 0x100000, 3<<20, gen+1) // the parent moves on
		expect(t, c, 0x100000, 4096, gen, "child after parent's write")
	}
	for i, c := range kids {
		expect(t, c, 0x100000, 4096, byte(i+1), "old child")
		expect(t, c, 0x200000, 4096, 0xee, "old child's own write")
		expect(t, c, 0x8000000>>4, 4096, 0, "untouched memory")
	}
	// A grandchild from a child.
	g, err := kids[0].Fork()
	if err != nil {
		t.Fatal(err)
	}
	expect(t, g, 0x200000, 4096, 0xee, "grandchild")
	for _, c := range append(kids, g) {
		c.Close()
	}
	expect(t, p, 0x100000, 3<<20, 6, "parent after all children closed")
}

// TestForkCostsWhatChanged: a fork copies what the parent changed since its
// last fork, never what it merely holds: a few changed pages are copied to
// the child and stay private in the parent; a chunk with many is moved into
// a shared segment; untouched memory is shared.
func TestForkCostsWhatChanged(t *testing.T) {
	p, _ := New(64 << 20)
	defer p.Close()
	fill(t, p, 0x400000, 8<<20, 7)
	c1, err := p.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if r := p.Resident(); r != 0 {
		t.Errorf("parent holds %d private bytes right after fork", r)
	}
	fill(t, p, 0x400000, 4096, 8) // one page changed
	if r := p.Resident(); r != 4096 {
		t.Errorf("parent holds %d private bytes after writing one page", r)
	}
	c2, err := p.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if r := p.Resident(); r != 4096 {
		t.Errorf("parent holds %d private bytes after the second fork, want its one page", r)
	}
	if r := c2.Resident(); r != 4096 {
		t.Errorf("child holds %d private bytes, want the one copied page", r)
	}
	expect(t, c2, 0x400000, 4096, 8, "second child, changed page")
	expect(t, c2, 0x401000, 4096, 7, "second child, unchanged page")
	expect(t, c1, 0x400000, 4096, 7, "first child keeps its view")

	fill(t, p, 0x800000, 32*4096, 9) // a chunk with many changed pages
	c3, err := p.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if r := p.Resident(); r != 4096 {
		t.Errorf("parent holds %d private bytes after the third fork: the busy chunk should be shared", r)
	}
	if r := c3.Resident(); r != 4096 {
		t.Errorf("third child holds %d private bytes", r)
	}
	expect(t, c3, 0x800000, 32*4096, 9, "third child, busy chunk")
	expect(t, c3, 0x400000, 4096, 8, "third child, the page copied twice")
	expect(t, c2, 0x800000, 4096, 7, "second child unaffected")
}

// TestDiscardAfterFork: discarded memory reads zero in the VM that discards
// it and is untouched in the other.
func TestDiscardAfterFork(t *testing.T) {
	p, _ := New(16 << 20)
	defer p.Close()
	fill(t, p, 0x400000, 6<<20, 3)
	c, err := p.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Discard(0x400000, 2<<20); err != nil { // a whole chunk
		t.Fatal(err)
	}
	if err := c.Discard(0x600000+8192, 3*4096); err != nil { // part of one
		t.Fatal(err)
	}
	expect(t, c, 0x400000, 2<<20, 0, "child, whole chunk discarded")
	expect(t, c, 0x600000+8192, 3*4096, 0, "child, part discarded")
	expect(t, c, 0x600000, 8192, 3, "child, rest of the chunk")
	expect(t, p, 0x400000, 6<<20, 3, "parent")
	fill(t, c, 0x400000, 4096, 9)
	g, err := c.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	expect(t, g, 0x400000, 4096, 9, "grandchild, rewritten page")
	expect(t, g, 0x401000, 4096, 0, "grandchild, discarded page")
}

func BenchmarkRepeatedFork(b *testing.B) {
	p, _ := New(64 << 20)
	defer p.Close()
	buf, _ := p.Slice(0x400000, 8<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	for b.Loop() {
		c, err := p.Fork()
		if err != nil {
			b.Fatal(err)
		}
		buf[0]++ // the parent changes a page between forks
		c.Close()
	}
}

// TestForkCompacts: a parent that scatters writes between forks keeps a
// bounded number of mappings, and every child sees exactly its moment.
func TestForkCompacts(t *testing.T) {
	p, _ := New(64 << 20)
	defer p.Close()
	var kids []*Memory
	for gen := 1; gen <= 40; gen++ {
		// Every other chunk gets one page of this generation.
		for c := 2; c < 256; c += 2 { // chunk 0 holds the CPU's pages
			fill(t, p, uint64(c)*chunkSize+uint64(1+gen%4)*PageSize, PageSize, byte(gen))
		}
		k, err := p.Fork()
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, k)
		if r := p.runs(); r > maxRuns {
			t.Fatalf("generation %d: %d mappings, want at most %d", gen, r, maxRuns)
		}
	}
	for i, k := range kids {
		gen := i + 1
		expect(t, k, 2*chunkSize+uint64(1+gen%4)*PageSize, PageSize, byte(gen), "child of its generation")
		expect(t, k, chunkSize, PageSize, 0, "untouched chunk")
		k.Close()
	}
}

func TestSharedChunk(t *testing.T) {
	m, err := New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := NewShared()
	if err != nil {
		t.Fatal(err)
	}
	const gpa = 2 << 20
	if err := m.MapShared(gpa, s); err != nil {
		t.Fatal(err)
	}
	c, err := m.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m.Host()[gpa+5] = 42 // through the parent: the child and the host see it
	if c.Host()[gpa+5] != 42 || s.Host()[5] != 42 {
		t.Fatalf("shared chunk not shared after fork: child %d host %d", c.Host()[gpa+5], s.Host()[5])
	}
	c.Host()[gpa+6] = 7
	if m.Host()[gpa+6] != 7 {
		t.Fatal("the child's write is not seen by the parent")
	}
	if err := m.Discard(gpa, PageSize); err == nil {
		t.Error("Discard of a shared chunk succeeded")
	}
	if err := m.UnmapShared(gpa); err != nil {
		t.Fatal(err)
	}
	if m.Host()[gpa+5] != 0 || c.Host()[gpa+5] != 42 {
		t.Fatalf("after unmapping in the parent: parent %d child %d", m.Host()[gpa+5], c.Host()[gpa+5])
	}
	s.Close()
	if c.Host()[gpa+6] != 7 {
		t.Fatal("the child lost the chunk when the host closed it")
	}
}
