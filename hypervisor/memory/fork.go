package memory

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/machine"
)

// Copy-on-write across forks. Guest RAM is cut in chunks of chunkSize; each
// chunk maps, MAP_PRIVATE, a slot of a segment: a memfd that nobody writes
// once it is shared. A fork:
//
//  1. finds the parent's chunks that hold private (written-since) pages,
//     through /proc/self/pagemap (~50 us for 64 MiB);
//  2. copies the chunks with many such pages into one new segment and
//     remaps the parent's chunks onto it, dropping its private copies;
//  3. maps the child's range from the same chunk table, and copies into it
//     the few private pages of the other chunks.
//
// So a fork costs what the parent changed since its last fork, not what it
// holds: a prefork master forks as fast the hundredth time as the first.
// Slots are reference-counted; the last VM to drop one punches it out.

// chunkSize trades copying (a dirty chunk is copied whole, only its present
// pages) against mappings: a VM has one per run of chunks from one segment,
// at most maxRuns before a fork compacts them (copying all present pages
// into one segment), so that a thousand VMs stay within vm.max_map_count.
const (
	chunkSize = 256 << 10
	maxRuns   = 32
)

// segment is a memfd holding chunk slots.
type segment struct {
	fd   int
	refs []atomic.Int32 // per slot
	live atomic.Int32   // slots with refs > 0
}

func newSegment(size uint64) (*segment, error) {
	fd, err := unix.MemfdCreate("ukfork-guest", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memory: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("memory: ftruncate %d: %w", size, err)
	}
	return &segment{fd: fd, refs: make([]atomic.Int32, size/chunkSize)}, nil
}

func (s *segment) closeFD() { unix.Close(s.fd) }

// chunkRef is where one chunk's pages come from; seg nil means anonymous
// memory (zero until written). A shared chunk maps its segment MAP_SHARED:
// every VM mapping it sees the others' writes (a pipe ring, see Shared).
type chunkRef struct {
	seg    *segment
	off    uint64
	shared bool
}

func (s *segment) ref(off uint64) chunkRef {
	if s.refs[off/chunkSize].Add(1) == 1 {
		s.live.Add(1)
	}
	return chunkRef{seg: s, off: off}
}

func (c chunkRef) clone() chunkRef {
	if c.seg == nil {
		return c
	}
	r := c.seg.ref(c.off)
	r.shared = c.shared
	return r
}

// release drops one reference; the last one frees the slot's memory.
func (c *chunkRef) release() { releaseAll(unsafe.Slice(c, 1)) }

// releaseAll drops a reference of each chunk. Slots that lose their last
// one are freed in runs, one hole punched per run of neighbours, and not
// at all when their segment has no slot left (it is closed): a VM that
// ends frees its RAM in a few calls, not one per chunk (512 punches took
// ~23 ms at the end of every 128 MiB run).
func releaseAll(cs []chunkRef) {
	type run struct {
		seg    *segment
		off, n uint64
	}
	var runs []run
	for i := range cs {
		c := &cs[i]
		s := c.seg
		if s == nil {
			continue
		}
		c.seg = nil
		if s.refs[c.off/chunkSize].Add(-1) != 0 {
			continue
		}
		if l := len(runs) - 1; l >= 0 && runs[l].seg == s && runs[l].off+runs[l].n == c.off {
			runs[l].n += chunkSize
		} else {
			runs = append(runs, run{seg: s, off: c.off, n: chunkSize})
		}
	}
	for _, r := range runs {
		// Nobody can take a slot whose count reached zero, so a run that
		// holds every live slot left is the segment's end: no punch. Else
		// punch while the run still counts as live (the fd stays open).
		slots := int32(r.n / chunkSize)
		if r.seg.live.Load() != slots {
			unix.Fallocate(r.seg.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(r.off), int64(r.n))
		}
		if r.seg.live.Add(-slots) == 0 {
			r.seg.closeFD()
		}
	}
}

// mapChunks maps chunks [first, last) of m at their sources, private.
func (m *Memory) mapChunks(first, last int) error {
	for i := first; i < last; {
		c := m.chunks[i]
		j := i + 1 // extend over chunks contiguous in the same source
		for j < last && m.chunks[j].seg == c.seg && m.chunks[j].shared == c.shared &&
			(c.seg == nil || m.chunks[j].off == c.off+uint64(j-i)*chunkSize) {
			j++
		}
		addr := unsafe.Pointer(&m.mem[uint64(i)*chunkSize])
		length := uintptr(j-i) * chunkSize
		flags, fd := uintptr(unix.MAP_PRIVATE|unix.MAP_FIXED), -1
		if c.shared {
			flags = unix.MAP_SHARED | unix.MAP_FIXED
		}
		if c.seg == nil {
			flags |= unix.MAP_ANONYMOUS
		} else {
			fd = c.seg.fd
		}
		_, _, e := unix.Syscall6(unix.SYS_MMAP, uintptr(addr), length, unix.PROT_READ|unix.PROT_WRITE, flags, uintptr(fd), uintptr(c.off))
		if e != 0 {
			return fmt.Errorf("memory: mmap chunk %d: %w", i, e)
		}
		i = j
	}
	return nil
}

// Fork returns a copy-on-write clone of m. m must not change meanwhile (its
// vCPU is stopped at the fork hypercall).
func (m *Memory) Fork() (*Memory, error) { return m.ForkIn(nil) }

// ForkIn is Fork with the clone in the caller's range at (see NewIn).
func (m *Memory) ForkIn(at []byte) (*Memory, error) {
	if at != nil && len(at) != len(m.mem) {
		return nil, fmt.Errorf("memory: range of %d bytes for %d bytes of RAM", len(at), len(m.mem))
	}
	first := m.shared
	if m.shared {
		// First fork: freeze the memfd by remapping ourselves private.
		m.shared = false
		if err := m.mapChunks(0, len(m.chunks)); err != nil {
			return nil, err
		}
	}
	var overlay []uint64
	if !first {
		var err error
		if overlay, err = m.materialize(); err != nil {
			return nil, err
		}
	}
	mem := at
	if mem == nil {
		var err error
		if mem, err = Reserve(uint64(len(m.mem))); err != nil {
			return nil, err
		}
	}
	c := &Memory{mem: mem, borrowed: at != nil, chunks: make([]chunkRef, len(m.chunks))}
	for i, ref := range m.chunks {
		c.chunks[i] = ref.clone()
	}
	if err := c.mapChunks(0, len(c.chunks)); err != nil {
		c.Close()
		return nil, err
	}
	for _, p := range overlay {
		copy(c.mem[p*PageSize:(p+1)*PageSize], m.mem[p*PageSize:(p+1)*PageSize])
	}
	return c, nil
}

// A chunk with at most overlayPages private pages stays as it is in the
// parent: the child maps the same segment and gets copies of those pages.
// Remapping the parent would make it fault again on every page of the chunk
// it touches, and a fault costs far more than copying a page (most of all
// under nested virtualisation); the runtime's stack and data, the boot page
// and the program's stack are written between any two forks.
const overlayPages = 16

// materialize moves the chunks holding many private pages into a new
// segment (all of them when the chunk table has grown too fragmented) and
// returns the private pages of the others, which the child copies.
func (m *Memory) materialize() ([]uint64, error) {
	priv, err := m.privatePages(0, m.Size())
	if err != nil {
		return nil, err
	}
	perChunk := map[int]int{}
	for _, p := range priv {
		perChunk[int(p*PageSize/chunkSize)]++
	}
	var dirty []int
	var overlay []uint64
	for _, p := range priv {
		c := int(p * PageSize / chunkSize)
		if perChunk[c] <= overlayPages {
			overlay = append(overlay, p)
		} else if len(dirty) == 0 || dirty[len(dirty)-1] != c {
			dirty = append(dirty, c)
		}
	}
	if len(dirty) == 0 {
		return overlay, nil
	}
	if m.runs()+2*countRuns(dirty) > maxRuns {
		dirty, overlay = dirty[:0], nil
		for c := range m.chunks {
			if !m.chunks[c].shared {
				dirty = append(dirty, c)
			}
		}
	}
	seg, err := newSegment(uint64(len(dirty)) * chunkSize)
	if err != nil {
		return nil, err
	}
	for slot, c := range dirty {
		if err := m.copyChunk(c, seg, uint64(slot)*chunkSize); err != nil {
			seg.closeFD()
			return nil, err
		}
	}
	for slot, c := range dirty {
		old := m.chunks[c]
		m.chunks[c] = seg.ref(uint64(slot) * chunkSize)
		old.release()
	}
	// Remap runs of consecutive dirty chunks (contiguous in the segment too).
	for i := 0; i < len(dirty); {
		j := i + 1
		for j < len(dirty) && dirty[j] == dirty[j-1]+1 {
			j++
		}
		if err := m.mapChunks(dirty[i], dirty[j-1]+1); err != nil {
			return nil, err
		}
		i = j
	}
	return overlay, nil
}

// countRuns counts the runs of consecutive numbers in a sorted list.
func countRuns(v []int) int {
	n := 0
	for i := range v {
		if i == 0 || v[i] != v[i-1]+1 {
			n++
		}
	}
	return n
}

// runs counts the mappings m's chunk table needs.
func (m *Memory) runs() int {
	n := 0
	for i, c := range m.chunks {
		if i == 0 || c.seg != m.chunks[i-1].seg || (c.seg != nil && c.off != m.chunks[i-1].off+chunkSize) {
			n++
		}
	}
	return n
}

// copyChunk writes the pages chunk c shows, private or from its segment,
// into slot off of seg. Holes stay holes: untouched memory stays free.
func (m *Memory) copyChunk(c int, seg *segment, off uint64) error {
	base := uint64(c) * chunkSize
	present := make([]bool, chunkSize/PageSize)
	priv, err := m.privatePages(base, chunkSize)
	if err != nil {
		return err
	}
	for _, p := range priv {
		present[p-base/PageSize] = true
	}
	if src := m.chunks[c]; src.seg != nil {
		for _, r := range dataRanges(src.seg.fd, src.off, chunkSize) {
			for p := r[0]; p < r[1]; p += PageSize {
				present[(p-src.off)/PageSize] = true
			}
		}
	}
	for i := 0; i < len(present); {
		if !present[i] {
			i++
			continue
		}
		j := i + 1
		for j < len(present) && present[j] {
			j++
		}
		from := base + uint64(i)*PageSize
		if _, err := unix.Pwrite(seg.fd, m.mem[from:base+uint64(j)*PageSize], int64(off+uint64(i)*PageSize)); err != nil {
			return fmt.Errorf("memory: copy chunk %d: %w", c, err)
		}
		i = j
	}
	return nil
}

// dataRanges lists the extents of fd in [off, off+n) that hold data.
func dataRanges(fd int, off, n uint64) [][2]uint64 {
	var out [][2]uint64
	end := off + n
	for at := off; at < end; {
		d, err := unix.Seek(fd, int64(at), unix.SEEK_DATA)
		if err != nil || uint64(d) >= end {
			break
		}
		h, err := unix.Seek(fd, d, unix.SEEK_HOLE)
		if err != nil {
			h = int64(end)
		}
		out = append(out, [2]uint64{uint64(d), min(uint64(h), end)})
		at = uint64(h)
	}
	return out
}

var (
	pagemapOnce sync.Once
	pagemap     *os.File
	pagemapErr  error
)

const (
	pmPresent  = 1 << 63
	pmFileOrSh = 1 << 61 // file page or shared anonymous: not a private copy
)

// privatePages lists the guest page numbers in [gpa, gpa+n) that m holds as
// private copies (written since they were last shared, or anonymous).
func (m *Memory) privatePages(gpa, n uint64) ([]uint64, error) {
	pagemapOnce.Do(func() { pagemap, pagemapErr = os.Open("/proc/self/pagemap") })
	if pagemapErr != nil {
		return nil, fmt.Errorf("memory: %w", pagemapErr)
	}
	buf := make([]byte, n/PageSize*8)
	vpn := uint64(uintptr(unsafe.Pointer(&m.mem[gpa]))) / PageSize
	if _, err := pagemap.ReadAt(buf, int64(vpn*8)); err != nil {
		return nil, fmt.Errorf("memory: read pagemap: %w", err)
	}
	var out []uint64
	for i := range n / PageSize {
		e := *(*uint64)(unsafe.Pointer(&buf[i*8]))
		if e&pmPresent != 0 && e&pmFileOrSh == 0 {
			out = append(out, gpa/PageSize+i)
		}
	}
	return out, nil
}

// discardPrivate zeroes [gpa, gpa+n) of a forked VM: whole chunks become
// anonymous (no host memory), partial ones drop their private pages and
// clear what their segment still shows.
func (m *Memory) discardPrivate(gpa, n uint64) error {
	end := gpa + n
	full0, full1 := -1, -1 // the whole chunks, remapped at once
	for c := gpa / chunkSize; c*chunkSize < end; c++ {
		cs, ce := c*chunkSize, (c+1)*chunkSize
		lo, hi := max(gpa, cs), min(end, ce)
		if lo == cs && hi == ce {
			m.chunks[c].release()
			if full0 < 0 {
				full0 = int(c)
			}
			full1 = int(c) + 1
			continue
		}
		if err := unix.Madvise(m.mem[lo:hi], unix.MADV_DONTNEED); err != nil {
			return err
		}
		if src := m.chunks[c]; src.seg != nil {
			for _, r := range dataRanges(src.seg.fd, src.off+(lo-cs), hi-lo) {
				clear(m.mem[cs+(r[0]-src.off) : cs+(r[1]-src.off)])
			}
		}
	}
	if full0 >= 0 {
		return m.mapChunks(full0, full1)
	}
	return nil
}

// Shared is one chunk of memory that several VMs map at once, MAP_SHARED,
// and the host too: a pipe ring. A fork keeps it shared, never copied.
type Shared struct {
	seg  *segment
	host []byte
}

// NewShared makes a zeroed shared chunk and maps it in the host.
func NewShared() (*Shared, error) {
	seg, err := newSegment(chunkSize)
	if err != nil {
		return nil, err
	}
	host, err := unix.Mmap(seg.fd, 0, chunkSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		seg.closeFD()
		return nil, fmt.Errorf("memory: mmap shared chunk: %w", err)
	}
	seg.ref(0)
	return &Shared{seg: seg, host: host}, nil
}

// Host is the host's view of the chunk.
func (s *Shared) Host() []byte { return s.host }

// Close drops the host's mapping and reference; VMs that map the chunk
// keep it until they unmap it.
func (s *Shared) Close() {
	if s.host == nil {
		return
	}
	unix.Munmap(s.host)
	s.host = nil
	r := chunkRef{seg: s.seg}
	r.release()
}

// MapShared maps s at guest address gpa (chunk-aligned), in place of what
// was there.
func (m *Memory) MapShared(gpa uint64, mc machine.Chunk) error {
	s, ok := mc.(*Shared)
	if !ok {
		return fmt.Errorf("memory: a %T cannot be mapped in a KVM guest", mc)
	}
	c, err := m.chunkAt(gpa)
	if err != nil {
		return err
	}
	old := m.chunks[c]
	m.chunks[c] = s.seg.ref(0)
	m.chunks[c].shared = true
	if err := m.mapChunks(c, c+1); err != nil {
		m.chunks[c].release()
		m.chunks[c] = old
		return err
	}
	old.release()
	return nil
}

// UnmapShared puts fresh memory back where a shared chunk was mapped.
func (m *Memory) UnmapShared(gpa uint64) error {
	c, err := m.chunkAt(gpa)
	if err != nil {
		return err
	}
	if !m.chunks[c].shared {
		return nil
	}
	m.chunks[c].release()
	m.chunks[c] = chunkRef{}
	if m.shared {
		// A never-forked VM maps its first segment everywhere else.
		m.chunks[c] = m.chunks[0].seg.ref(uint64(c) * chunkSize)
		addr := unsafe.Pointer(&m.mem[uint64(c)*chunkSize])
		_, _, e := unix.Syscall6(unix.SYS_MMAP, uintptr(addr), chunkSize, unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_SHARED|unix.MAP_FIXED, uintptr(m.chunks[c].seg.fd), uintptr(uint64(c)*chunkSize))
		if e != 0 {
			return fmt.Errorf("memory: remap chunk %d: %w", c, e)
		}
		return unix.Fallocate(m.chunks[0].seg.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(c)*chunkSize, chunkSize)
	}
	return m.mapChunks(c, c+1)
}

func (m *Memory) chunkAt(gpa uint64) (int, error) {
	if gpa%chunkSize != 0 || gpa < machine.Lowest || gpa >= m.Size() {
		return 0, unix.EINVAL
	}
	return int(gpa / chunkSize), nil
}
