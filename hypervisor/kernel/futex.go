package kernel

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// Futexes on memory the run's processes share (shm.go): a word of a shared
// object is one word for every VM that maps it, so its waiters are the
// run's, kept here by (object, offset), as Linux keys a shared futex by its
// page. A futex on memory of one process stays in its guest runtime.

type futexKey struct {
	obj any // what the memory is (shmObject.id)
	off uint64
}

type futexWaiter struct {
	f      *futexes
	key    futexKey
	bitset uint32
	woken  atomic.Bool
	q      waiter.Queue // its task, while blocked; guarded by futexes.mu
}

type futexes struct {
	mu    sync.Mutex
	queue map[futexKey][]*futexWaiter
}

// futexKeyAt is the key of the word at guest-physical gpa of p's VM, and
// the word as the host maps it, if it is in a shared object. The key is
// the memory's, not the mapping's: a file mapped twice has one futex.
func (p *Process) futexKeyAt(gpa uint64) (futexKey, *uint32, bool) {
	for _, w := range p.windows {
		if gpa >= w.gpa && gpa-w.gpa+4 <= uint64(len(w.obj.host)) {
			off := gpa - w.gpa
			return futexKey{w.obj.id, w.obj.base + off}, (*uint32)(unsafe.Pointer(&w.obj.host[off])), true
		}
	}
	return futexKey{}, nil, false
}

// FutexWait is FUTEX_WAIT(_BITSET) on the shared word at gpa: EAGAIN if it
// does not hold val, else wait until woken (0), deadline (ETIMEDOUT) or a
// signal (EINTR). EFAULT if gpa is not shared memory.
func (t *Task) FutexWait(gpa uint64, val, bitset uint32, deadline time.Time) unix.Errno {
	key, word, ok := t.futexKeyAt(gpa)
	if !ok {
		return unix.EFAULT
	}
	f := &t.k.futex
	w := &futexWaiter{f: f, key: key, bitset: bitset}
	f.mu.Lock()
	if atomic.LoadUint32(word) != val {
		f.mu.Unlock()
		return unix.EAGAIN
	}
	if f.queue == nil {
		f.queue = map[futexKey][]*futexWaiter{}
	}
	f.queue[key] = append(f.queue[key], w)
	f.mu.Unlock()
	for {
		e := t.Block([]waiter.Entry{{W: (*futexWait)(w), Events: unix.POLLIN}}, deadline)
		if w.woken.Load() {
			return 0 // woken, whatever else happened: the wake counted it
		}
		if e != 0 {
			f.mu.Lock()
			woken := w.woken.Load()
			if !woken {
				f.remove(w)
			}
			f.mu.Unlock()
			if woken {
				return 0
			}
			return e
		}
	}
}

// remove takes w out of its queue; f.mu held.
func (f *futexes) remove(w *futexWaiter) {
	q := f.queue[w.key]
	for i, x := range q {
		if x == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	if len(q) == 0 {
		delete(f.queue, w.key)
	} else {
		f.queue[w.key] = q
	}
}

// wake wakes up to n waiters of key whose bitset meets bitset; f.mu held.
func (f *futexes) wake(key futexKey, n int, bitset uint32) int {
	woken := 0
	q := f.queue[key]
	rest := q[:0]
	for _, w := range q {
		if woken < n && w.bitset&bitset != 0 {
			w.woken.Store(true)
			w.q.Notify()
			woken++
			continue
		}
		rest = append(rest, w)
	}
	if len(rest) == 0 {
		delete(f.queue, key)
	} else {
		f.queue[key] = rest
	}
	return woken
}

// FutexWake is FUTEX_WAKE(_BITSET): how many it woke.
func (t *Task) FutexWake(gpa uint64, n int, bitset uint32) (int, unix.Errno) {
	key, _, ok := t.futexKeyAt(gpa)
	if !ok {
		return 0, unix.EFAULT
	}
	f := &t.k.futex
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wake(key, n, bitset), 0
}

// FutexRequeue is FUTEX_(CMP_)REQUEUE: wake n at gpa, move up to n2 of
// the others to gpa2; with cmp, EAGAIN unless the word holds val3.
func (t *Task) FutexRequeue(gpa, gpa2 uint64, n, n2 int, cmp bool, val3 uint32) (int, unix.Errno) {
	key, word, ok := t.futexKeyAt(gpa)
	key2, _, ok2 := t.futexKeyAt(gpa2)
	if !ok || !ok2 {
		return 0, unix.EFAULT
	}
	f := &t.k.futex
	f.mu.Lock()
	defer f.mu.Unlock()
	if cmp && atomic.LoadUint32(word) != val3 {
		return 0, unix.EAGAIN
	}
	done := f.wake(key, n, ^uint32(0))
	moved := 0
	q := f.queue[key]
	for len(q) > 0 && moved < n2 {
		w := q[0]
		q = q[1:]
		w.key = key2
		f.queue[key2] = append(f.queue[key2], w)
		moved++
	}
	if len(q) == 0 {
		delete(f.queue, key)
	} else {
		f.queue[key] = q
	}
	return done + moved, 0
}

// FutexWakeOp is FUTEX_WAKE_OP: the operation op on the word at gpa2
// (atomically), wake n at gpa, and n2 at gpa2 if the old value passes
// op's comparison.
func (t *Task) FutexWakeOp(gpa, gpa2 uint64, n, n2 int, op uint32) (int, unix.Errno) {
	key, _, ok := t.futexKeyAt(gpa)
	key2, word2, ok2 := t.futexKeyAt(gpa2)
	if !ok || !ok2 {
		return 0, unix.EFAULT
	}
	kind, cmp := (op>>28)&7, (op>>24)&15
	oparg, cmparg := (op>>12)&0xfff, op&0xfff
	if op&(1<<31) != 0 { // FUTEX_OP_OPARG_SHIFT
		if oparg < 32 {
			oparg = 1 << oparg
		} else {
			oparg = 0
		}
	}
	if kind > 4 || cmp > 5 {
		return 0, unix.ENOSYS
	}
	f := &t.k.futex
	f.mu.Lock()
	defer f.mu.Unlock()
	word := word2
	var old uint32
	for {
		old = atomic.LoadUint32(word)
		nv := old
		switch kind {
		case 0:
			nv = oparg
		case 1:
			nv = old + oparg
		case 2:
			nv = old | oparg
		case 3:
			nv = old &^ oparg
		case 4:
			nv = old ^ oparg
		}
		if atomic.CompareAndSwapUint32(word, old, nv) {
			break
		}
	}
	done := f.wake(key, n, ^uint32(0))
	o, c := int32(old), int32(cmparg)
	var pass bool
	switch cmp {
	case 0:
		pass = o == c
	case 1:
		pass = o != c
	case 2:
		pass = o < c
	case 3:
		pass = o <= c
	case 4:
		pass = o > c
	case 5:
		pass = o >= c
	}
	if pass {
		done += f.wake(key2, n2, ^uint32(0))
	}
	return done, 0
}

// futexWait is a waiter as a waiter.Waitable: ready once woken.
type futexWait futexWaiter

func (w *futexWait) Readiness(int16) int16 {
	if (*futexWaiter)(w).woken.Load() {
		return unix.POLLIN
	}
	return 0
}

func (w *futexWait) Arm(n waiter.Notifier)    { w.guard().Arm(n) }
func (w *futexWait) Disarm(n waiter.Notifier) { w.guard().Disarm(n) }
func (w *futexWait) guard() waiter.Guarded    { return waiter.Guarded{Mu: &w.f.mu, Q: &w.q} }
