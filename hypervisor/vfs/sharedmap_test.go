package vfs_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// A memory file mapped shared is one memory for the mapping and for read
// and write; truncation zeroes what goes; an unlinked file lives while
// mapped and gives its space back with its last mapping.
func TestSharedMapping(t *testing.T) {
	ns := run(t, layerEnts(), 1<<20)
	f := mustOpen(t, ns, vfs.Root, "/tmp/m", unix.O_CREAT|unix.O_RDWR, 0o600)
	if _, e := f.Write([][]byte{[]byte("before the mapping")}, 0); e != 0 {
		t.Fatal(e)
	}
	sm, ok := f.File.(vfs.SharedMapper)
	if !ok {
		t.Fatal("a memory file cannot be mapped shared")
	}
	m, e := sm.MapShared(0, 8192, true)
	if e != 0 {
		t.Fatal(e)
	}
	if got := string(m.Host[:18]); got != "before the mapping" {
		t.Errorf("the mapping reads %q", got)
	}
	copy(m.Host[4096:], "stored")
	buf := make([]byte, 6)
	if n, e := f.Read([][]byte{buf}, 4096); e != 0 || n != 0 {
		t.Errorf("past the size a store is not the file's yet: %d %v", n, e)
	}
	f.Write([][]byte{[]byte("written")}, 8000)
	if n, _ := f.Read([][]byte{buf}, 4096); n != 6 || string(buf) != "stored" {
		t.Errorf("read of a mapped store: %q", buf[:n])
	}
	if got := string(m.Host[8000:8007]); got != "written" {
		t.Errorf("the mapping after a write: %q", got)
	}
	var st abi.Stat
	f.Stat(&st)
	if st.Size != 8007 {
		t.Errorf("size %d, want 8007", st.Size)
	}
	// Another mapping of it is the same memory, and names it the same.
	m2, e := sm.MapShared(4096, 4096, false)
	if e != 0 || string(m2.Host[:6]) != "stored" || m2.ID != m.ID {
		t.Errorf("a second mapping: %v %q, same memory %v", e, m2.Host[:6], m2.ID == m.ID)
	}
	m2.Release()
	if e := ns.Truncate(vfs.Root, f.Inode(), nil, 10); e != 0 {
		t.Fatal(e)
	}
	if m.Host[4096] != 0 || m.Host[9] != 'e' || m.Host[10] != 0 {
		t.Errorf("after truncate to 10 the mapping has %q %q %q", m.Host[9], m.Host[10], m.Host[4096])
	}
	used := spaceUsed(t, ns)
	ns.Unlink(vfs.Root, ns.Root(), "/tmp/m", false)
	f.Close()
	if got := spaceUsed(t, ns); got != used {
		t.Errorf("unlinked and closed but mapped: space %d, want %d", got, used)
	}
	copy(m.Host, "still")
	m.Release()
	if got := spaceUsed(t, ns); got >= used {
		t.Errorf("after the last mapping the space is %d, want below %d", got, used)
	}
	// A memfd is such a file with no name.
	mf, e := ns.Memfd.Anon("/memfd:x (deleted)", 0, 0)
	if e != 0 {
		t.Fatal(e)
	}
	if _, ok := mf.(vfs.SharedMapper); !ok {
		t.Error("a memfd cannot be mapped shared")
	}
	mf.Close()
}

func spaceUsed(t *testing.T, ns *vfs.Namespace) int64 {
	t.Helper()
	var st abi.Statfs
	n, e := ns.Lookup(vfs.Root, ns.Root(), "/tmp", true)
	if e != 0 {
		t.Fatal(e)
	}
	ns.Statfs(n, &st)
	return int64(st.Blocks-st.Bfree) * 4096
}
