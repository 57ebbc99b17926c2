package kernel

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// System V IPC (svipc(7)), private to the run: shared memory segments,
// shared objects each attach maps as a window, with Linux's keys, ids,
// permissions and limits.

// Linux's limits (ipc/shm.c, include/uapi/linux/shm.h); SHMMAX is the
// window a VM has for shared objects.
const (
	shmMin    = 1
	shmMni    = 4096
	shmAll    = 1<<64 - 1<<24 - 1 // pages; the budget bounds it first
	ipcSeqMul = 32768             // ids are seq*ipcSeqMul + slot, as Linux makes them
)

// Commands and mode bits of include/uapi/linux/{ipc,shm}.h that x/sys lacks.
const (
	IpcInfo    = 3
	shmLock    = 11
	shmUnlock  = 12
	ShmStat    = 13
	ShmInfo    = 14
	ShmStatAny = 15
	shmDest    = 0o1000
	shmLocked  = 0o2000
	shmExec    = 0o100000
)

// ipcPerm is an object's key, id, owner and mode (struct ipc64_perm).
type ipcPerm struct {
	key, id              int32
	uid, gid, cuid, cgid uint32
	mode                 uint32 // permission bits, and SHM_DEST, SHM_LOCKED
	seq                  uint16
}

// allowed is ipcperms(): may c have the access bits of want (the low nine
// bits of a flag word, or 4/2 for read/write)?
func (p *ipcPerm) allowed(c *vfs.Cred, want uint32) bool {
	if c.UID == 0 {
		return true // CAP_IPC_OWNER
	}
	req := (want>>6 | want>>3 | want) & 7
	granted := p.mode
	switch {
	case c.UID == p.uid || c.UID == p.cuid:
		granted >>= 6
	case c.InGroup(p.gid) || c.InGroup(p.cgid):
		granted >>= 3
	}
	return req&^granted&7 == 0
}

// owner is whether c may change or remove the object.
func (p *ipcPerm) owner(c *vfs.Cred) bool {
	return c.UID == 0 || c.UID == p.uid || c.UID == p.cuid
}

func (p *ipcPerm) out() abi.IpcPerm {
	return abi.IpcPerm{Key: p.key, Uid: p.uid, Gid: p.gid, Cuid: p.cuid, Cgid: p.cgid,
		Mode: p.mode, Seq: p.seq}
}

// set is IPC_SET: the owner and the permission bits.
func (p *ipcPerm) set(in abi.IpcPerm) {
	p.uid, p.gid = in.Uid, in.Gid
	p.mode = p.mode&^0o777 | in.Mode&0o777
}

// ipcTable is one kind of object by slot; ids carry a sequence so a
// stale id does not name a new object.
type ipcTable[T any] struct {
	slots []*T
	perm  func(*T) *ipcPerm
	seq   uint16
}

func (t *ipcTable[T]) byID(id int32) (*T, unix.Errno) {
	if id < 0 {
		return nil, unix.EINVAL
	}
	i := int(id % ipcSeqMul)
	if i >= len(t.slots) || t.slots[i] == nil || t.perm(t.slots[i]).id != id {
		return nil, unix.EINVAL
	}
	return t.slots[i], 0
}

func (t *ipcTable[T]) byKey(key int32) *T {
	for _, o := range t.slots {
		if o != nil && t.perm(o).key == key {
			return o
		}
	}
	return nil
}

// add puts o in the first free slot (ENOSPC past max) and gives it its id.
func (t *ipcTable[T]) add(o *T, max int) unix.Errno {
	i := 0
	for i < len(t.slots) && t.slots[i] != nil {
		i++
	}
	if i >= max {
		return unix.ENOSPC
	}
	if i == len(t.slots) {
		t.slots = append(t.slots, nil)
	}
	t.seq++
	p := t.perm(o)
	p.seq = t.seq
	p.id = int32(t.seq%(1<<16-1))*ipcSeqMul + int32(i)
	t.slots[i] = o
	return 0
}

func (t *ipcTable[T]) remove(id int32) {
	t.slots[id%ipcSeqMul] = nil
	for len(t.slots) > 0 && t.slots[len(t.slots)-1] == nil {
		t.slots = t.slots[:len(t.slots)-1]
	}
}

func (t *ipcTable[T]) used() int {
	n := 0
	for _, o := range t.slots {
		if o != nil {
			n++
		}
	}
	return n
}

// getKey is the lookup of shmget and semget: the object of key, or a new
// one made by make (IPC_CREAT), checked as Linux does.
func getKey[T any](t *ipcTable[T], c *vfs.Cred, key, flags int32, max int, check func(*T) unix.Errno, make func() (*T, unix.Errno)) (int32, unix.Errno) {
	var o *T
	if key != unix.IPC_PRIVATE {
		o = t.byKey(key)
	}
	if o == nil {
		if key != unix.IPC_PRIVATE && flags&unix.IPC_CREAT == 0 {
			return 0, unix.ENOENT
		}
		n, e := make()
		if e != 0 {
			return 0, e
		}
		p := t.perm(n)
		*p = ipcPerm{key: key, uid: c.UID, gid: c.GID, cuid: c.UID, cgid: c.GID, mode: uint32(flags) & 0o777}
		if e := t.add(n, max); e != 0 {
			return 0, e
		}
		return p.id, 0
	}
	if flags&unix.IPC_CREAT != 0 && flags&unix.IPC_EXCL != 0 {
		return 0, unix.EEXIST
	}
	if !t.perm(o).allowed(c, uint32(flags)&0o777) {
		return 0, unix.EACCES
	}
	if e := check(o); e != 0 {
		return 0, e
	}
	return t.perm(o).id, 0
}

// sysv is the run's System V IPC namespace.
type sysv struct {
	mu    sync.Mutex
	shm   ipcTable[shmSegment]
	pages uint64 // of every segment (SHMALL)
}

// shmSegment is a shared memory segment.
type shmSegment struct {
	perm                ipcPerm
	size                uint64
	obj                 *shmObject // its memory: the segment holds one reference
	nattch              uint64
	cpid, lpid          int32
	atime, dtime, ctime int64
	ns                  *sysv
}

func newSysv() *sysv {
	ns := &sysv{}
	ns.shm.perm = func(s *shmSegment) *ipcPerm { return &s.perm }
	return ns
}

// Shmget is shmget(2).
func (t *Task) Shmget(key int32, size uint64, flags int32) (int32, unix.Errno) {
	ns := t.k.sysv
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return getKey(&ns.shm, t.Cred(), key, flags, shmMni,
		func(s *shmSegment) unix.Errno {
			if size > s.size {
				return unix.EINVAL
			}
			return 0
		},
		func() (*shmSegment, unix.Errno) {
			if size < shmMin || size > abi.ShmMax {
				return nil, unix.EINVAL
			}
			pages := (size + 4095) / 4096
			if ns.pages+pages > shmAll {
				return nil, unix.ENOSPC
			}
			o, e := newShmObject(t.Budget(), pages*4096)
			if e != 0 {
				return nil, e
			}
			ns.pages += pages
			return &shmSegment{size: size, obj: o, cpid: t.Pid, ctime: time.Now().Unix(), ns: ns}, 0
		})
}

// Shmat attaches segment id to t's VM (shmat(2)): where it is in the
// window and how long; the runtime maps it where the program asked.
func (t *Task) Shmat(id int32, flags int32) (gpa, size uint64, e unix.Errno) {
	ns := t.k.sysv
	ns.mu.Lock()
	s, e := ns.shm.byID(id)
	if e == 0 {
		want := uint32(0o6)
		if flags&unix.SHM_RDONLY != 0 {
			want = 0o4
		}
		if flags&shmExec != 0 {
			want |= 0o1
		}
		if !s.perm.allowed(t.Cred(), want<<6) {
			e = unix.EACCES
		}
	}
	if e != 0 {
		ns.mu.Unlock()
		return 0, 0, e
	}
	mem := s.obj
	mem.refs.Add(1) // the window's, until its release
	ns.mu.Unlock()
	if len(t.windows) >= maxWindows {
		mem.release()
		return 0, 0, unix.EMFILE // SHMSEG
	}
	full := uint64(len(mem.host))
	gpa, ok := freeWindow(t.windows, full)
	if !ok {
		mem.release()
		return 0, 0, unix.ENOMEM
	}
	if gpa, e = t.mapWindow(shmWindow{gpa: gpa, obj: mem, seg: s}); e != 0 {
		return 0, 0, e
	}
	return gpa, full, 0
}

func (s *shmSegment) attach(pid int32) {
	s.ns.mu.Lock()
	s.nattch++
	s.lpid, s.atime = pid, time.Now().Unix()
	s.ns.mu.Unlock()
}

// detach ends an attach, by pid (0: one that never was); the segment goes
// with its last attach once removed.
func (s *shmSegment) detach(pid int32) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.nattch--
	if pid != 0 {
		s.lpid, s.dtime = pid, time.Now().Unix()
	}
	s.maybeFree()
}

// maybeFree frees a removed segment nothing attaches; ns.mu held.
func (s *shmSegment) maybeFree() {
	if s.nattch == 0 && s.perm.mode&shmDest != 0 && s.obj != nil {
		s.ns.shm.remove(s.perm.id)
		s.ns.pages -= (s.size + 4095) / 4096
		s.obj.release()
		s.obj = nil
	}
}

func (s *shmSegment) stat() abi.ShmidDs {
	return abi.ShmidDs{Perm: s.perm.out(), Segsz: s.size, Atime: s.atime, Dtime: s.dtime, Ctime: s.ctime,
		Cpid: s.cpid, Lpid: s.lpid, Nattch: s.nattch}
}

// ShmCtl is what shmctl(2) does with a segment or the namespace: buf is
// what the command returns or takes (a ShmidDs, Shminfo or ShmInfo).
type ShmCtl struct {
	Ds   abi.ShmidDs
	Info abi.Shminfo
	Used abi.ShmInfo
}

// Shmctl is shmctl(2); c.Ds is IPC_SET's argument, and the IPC_STAT family
// and the INFO commands fill c. The result is shmctl's.
func (t *Task) Shmctl(id, cmd int32, c *ShmCtl) (int32, unix.Errno) {
	ns := t.k.sysv
	ns.mu.Lock()
	defer ns.mu.Unlock()
	cred := t.Cred()
	switch cmd {
	case IpcInfo:
		c.Info = abi.Shminfo{Shmmax: abi.ShmMax, Shmmin: shmMin, Shmmni: shmMni, Shmseg: shmMni, Shmall: shmAll}
		return int32(max(len(ns.shm.slots)-1, 0)), 0
	case ShmInfo:
		c.Used = abi.ShmInfo{Used_ids: int32(ns.shm.used()), Shm_tot: ns.pages, Shm_rss: ns.pages}
		return int32(max(len(ns.shm.slots)-1, 0)), 0
	case ShmStat, ShmStatAny: // id is a slot
		if id < 0 || int(id) >= len(ns.shm.slots) || ns.shm.slots[id] == nil {
			return 0, unix.EINVAL
		}
		s := ns.shm.slots[id]
		if cmd == ShmStat && !s.perm.allowed(cred, 0o400) {
			return 0, unix.EACCES
		}
		c.Ds = s.stat()
		return s.perm.id, 0
	}
	s, e := ns.shm.byID(id)
	if e != 0 {
		return 0, e
	}
	switch cmd {
	case unix.IPC_STAT:
		if !s.perm.allowed(cred, 0o400) {
			return 0, unix.EACCES
		}
		c.Ds = s.stat()
	case unix.IPC_SET:
		if !s.perm.owner(cred) {
			return 0, unix.EPERM
		}
		s.perm.set(c.Ds.Perm)
		s.ctime = time.Now().Unix()
	case unix.IPC_RMID:
		if !s.perm.owner(cred) {
			return 0, unix.EPERM
		}
		s.perm.mode |= shmDest
		s.perm.key = unix.IPC_PRIVATE // no shmget finds it again
		s.maybeFree()
	case shmLock, shmUnlock:
		if cred.UID != 0 && !s.perm.owner(cred) {
			return 0, unix.EPERM
		}
		if cmd == shmLock {
			s.perm.mode |= shmLocked // guest memory is never paged out anyway
		} else {
			s.perm.mode &^= shmLocked
		}
	default:
		return 0, unix.EINVAL
	}
	return 0, 0
}

// closeIPC frees what the run's IPC objects hold, at its end.
func (k *Kernel) closeIPC() {
	ns := k.sysv
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, s := range ns.shm.slots {
		if s != nil && s.obj != nil {
			s.obj.release()
			s.obj = nil
		}
	}
	ns.shm.slots = nil
}
