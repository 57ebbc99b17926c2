// epoll: an interest list of the run's files, with Linux's rules.

package vfs

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/waiter"
)

// An epoll instance watches two kinds of file. Those backed by a host
// descriptor (sockets, host pipes, terminals, eventfds, timerfds, another
// epoll) go into a host epoll of the instance's own with the program's
// flags as they are, so the host kernel gives EPOLLET, EPOLLONESHOT,
// EPOLLEXCLUSIVE and EPOLLRDHUP their exact meaning, and a blocked task
// polls that one descriptor whatever the number of files. The run's own
// objects (pipe rings between VMs) are looked at in place: level-triggered
// from their readiness, edge-triggered from their Edge counter, which moves
// on every write (as Linux wakes an ET waiter on every write to a pipe).
//
// The interest list belongs to the open file description, as on Linux: an
// epoll fd inherited through fork is the same instance. An item is keyed
// by (fd number, open file description), and goes when that description's
// last descriptor closes.

// Epoll flags beyond the poll bits (uapi/linux/eventpoll.h).
const (
	EpollRdhup     = 0x2000
	EpollExclusive = 1 << 28
	EpollWakeup    = 1 << 29
	EpollOneshot   = 1 << 30
	EpollET        = 1 << 31

	epollAlways = unix.EPOLLERR | unix.EPOLLHUP // reported whether asked or not
	// EPOLLEXCLUSIVE goes only with these.
	epollExclusiveOK = unix.EPOLLIN | unix.EPOLLOUT | EpollWakeup | EpollET | EpollExclusive
)

// EpollMaxItems bounds one instance's interest list (Linux bounds all of a
// user's by max_user_watches, 4% of low memory).
const EpollMaxItems = 1 << 16

type epKey struct {
	fd int
	f  *OpenFile
}

type epItem struct {
	key    epKey
	id     uint64 // the host epoll's data for it
	events uint32
	data   uint64
	onHost bool            // in the host epoll
	w      waiter.Waitable // looked at in place; nil if only on the host
	edge   uint64          // EPOLLET: the Edge last reported
	fired  bool            // EPOLLONESHOT: reported, off until EPOLL_CTL_MOD
}

// Epoll is an epoll instance: what epoll_create gives.
type Epoll struct {
	base
	budget *Budget
	host   int

	mu     sync.Mutex
	items  map[epKey]*epItem
	byID   map[uint64]*epItem
	nextID uint64
	order  []*epItem // the in-place items, in turn: a full wait starts after the last reported
	next   int
	onHost int // items in the host epoll
	mixed  int // items both there and in place (nested epolls)
	armed  map[waiter.Notifier][]waiter.Waitable
	closed bool
}

func setEpollData(ev *unix.EpollEvent, v uint64) {
	ev.Fd, ev.Pad = int32(uint32(v)), int32(uint32(v>>32))
}

func epollData(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// NewEpoll makes an instance; its host epoll counts against b.
func NewEpoll(b *Budget) (*Epoll, unix.Errno) {
	if e := b.takeFDs(1); e != 0 {
		return nil, e
	}
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		b.giveFDs(1)
		return nil, Errno(err)
	}
	return &Epoll{budget: b, host: fd, items: map[epKey]*epItem{}, byID: map[uint64]*epItem{}}, 0
}

// Close drops every item and the host epoll.
func (ep *Epoll) Close() {
	ep.mu.Lock()
	items := ep.items
	ep.items, ep.byID, ep.order, ep.closed = nil, nil, nil, true
	ep.mu.Unlock()
	for k := range items {
		k.f.unwatch(ep)
	}
	unix.Close(ep.host)
	ep.budget.giveFDs(1)
}

func (ep *Epoll) Stat(st *abi.Stat) unix.Errno {
	*st = abi.Stat{Dev: 0xd, Ino: uint64(ep.host) + 1<<20, Nlink: 1, Mode: 0o600, Blksize: 4096}
	return 0
}

// Ctl is epoll_ctl: op on the item (fd, f) with the program's events and
// data; Linux's errors.
func (ep *Epoll) Ctl(op, fd int, f *OpenFile, events uint32, data uint64) unix.Errno {
	if f.File == File(ep) {
		return unix.EINVAL // itself
	}
	w, ok := f.File.(waiter.Waitable)
	if !ok {
		return unix.EPERM // a file that cannot be waited for: regular files, directories, devices
	}
	if events&EpollExclusive != 0 {
		if op == unix.EPOLL_CTL_MOD || events&^epollExclusiveOK != 0 {
			return unix.EINVAL
		}
		if _, isEpoll := f.File.(*Epoll); isEpoll {
			return unix.EINVAL
		}
	}
	key := epKey{fd, f}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	it := ep.items[key]
	switch op {
	case unix.EPOLL_CTL_ADD:
		if it != nil {
			return unix.EEXIST
		}
		if len(ep.items) >= EpollMaxItems {
			return unix.ENOSPC
		}
		return ep.add(key, w, events, data)
	case unix.EPOLL_CTL_MOD:
		if it == nil {
			return unix.ENOENT
		}
		if it.events&EpollExclusive != 0 {
			return unix.EINVAL
		}
		if it.onHost {
			ev := unix.EpollEvent{Events: events | epollAlways}
			setEpollData(&ev, it.id)
			if err := unix.EpollCtl(ep.host, unix.EPOLL_CTL_MOD, hostFD(w), &ev); err != nil {
				return Errno(err)
			}
		}
		it.events, it.data, it.fired, it.edge = events, data, false, ^uint64(0)
		return 0
	case unix.EPOLL_CTL_DEL:
		if it == nil {
			return unix.ENOENT
		}
		ep.drop(it)
		f.unwatch(ep)
		return 0
	}
	return unix.EINVAL
}

// hostFD is the host descriptor behind w, -1 if none.
func hostFD(w waiter.Waitable) int {
	if p, ok := w.(waiter.Poller); ok {
		return p.PollFD()
	}
	return -1
}

// add puts a new item in; ep.mu held.
func (ep *Epoll) add(key epKey, w waiter.Waitable, events uint32, data uint64) unix.Errno {
	ep.nextID++
	it := &epItem{key: key, id: ep.nextID, events: events, data: data, edge: ^uint64(0)}
	hfd := hostFD(w)
	if hfd >= 0 {
		ev := unix.EpollEvent{Events: events | epollAlways}
		setEpollData(&ev, it.id)
		if err := unix.EpollCtl(ep.host, unix.EPOLL_CTL_ADD, hfd, &ev); err != nil {
			// EEXIST: the same host file under another of the
			// program's descriptors (a dup), which the host epoll
			// cannot hold twice; ELOOP: epolls watching each other.
			return Errno(err)
		}
		it.onHost = true
		ep.onHost++
	}
	if _, mixed := w.(waiter.Mixed); hfd < 0 || mixed {
		it.w = w
		ep.order = append(ep.order, it)
		if it.onHost {
			ep.mixed++
		}
	}
	if !key.f.watch(ep) {
		ep.drop(it)
		return unix.EBADF // closed meanwhile
	}
	ep.items[key], ep.byID[it.id] = it, it
	return 0
}

// drop takes it out; ep.mu held.
func (ep *Epoll) drop(it *epItem) {
	if it.w != nil && it.onHost {
		ep.mixed--
	}
	if it.onHost {
		unix.EpollCtl(ep.host, unix.EPOLL_CTL_DEL, hostFD(it.key.f.File.(waiter.Waitable)), nil)
		it.onHost = false
		ep.onHost--
	}
	delete(ep.items, it.key)
	delete(ep.byID, it.id)
	for i, o := range ep.order {
		if o == it {
			ep.order = append(ep.order[:i], ep.order[i+1:]...)
			if ep.next > i {
				ep.next--
			}
			break
		}
	}
}

// forget drops every item of f, whose last descriptor closed.
func (ep *Epoll) forget(f *OpenFile) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for k, it := range ep.items {
		if k.f == f {
			ep.drop(it)
		}
	}
}

// EpollEvent is one event epoll_wait reports.
type EpollEvent struct {
	Events uint32
	Data   uint64
}

// Collect gathers up to max events that hold now, as epoll_wait reports
// them: the host epoll's, then the in-place items' from where the last
// full wait stopped.
func (ep *Epoll) Collect(max int) []EpollEvent {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.closed {
		return nil
	}
	var out []EpollEvent
	var at map[*epItem]int // an item reported twice (a nested epoll) is one event
	if ep.mixed > 0 {
		at = map[*epItem]int{}
	}
	if ep.onHost > 0 {
		hev := make([]unix.EpollEvent, min(max, ep.onHost))
		n, err := unix.EpollWait(ep.host, hev, 0)
		for err == unix.EINTR {
			n, err = unix.EpollWait(ep.host, hev, 0)
		}
		for _, h := range hev[:max0(n)] {
			it := ep.byID[epollData(&h)]
			if it == nil {
				continue // dropped since
			}
			if at != nil {
				at[it] = len(out)
			}
			out = append(out, EpollEvent{Events: h.Events, Data: it.data})
		}
	}
	n := len(ep.order)
	for k := 0; k < n && len(out) < max; k++ {
		i := (ep.next + k) % n
		it := ep.order[i]
		if it.fired {
			continue
		}
		want := it.events&0xffff | epollAlways
		r := uint32(uint16(readiness(it.w, int16(want)))) & want
		if r == 0 {
			continue
		}
		if it.events&EpollET != 0 {
			if ed, ok := it.w.(waiter.Edger); ok {
				e := ed.Edge(int16(want))
				if e == it.edge {
					continue
				}
				it.edge = e
			}
		}
		if it.events&EpollOneshot != 0 {
			it.fired = true
		}
		ep.next = (i + 1) % n
		if j, ok := at[it]; ok {
			out[j].Events |= r
			continue
		}
		out = append(out, EpollEvent{Events: r, Data: it.data})
	}
	return out
}

func max0(n int) int { return max(n, 0) }

func readiness(w waiter.Waitable, events int16) int16 {
	return waiter.Readiness([]waiter.Entry{{W: w, Events: events}}, nil)[0]
}

// PollFD, Unpolled, Readiness, Arm and Disarm make an instance a
// waiter.Mixed: readable when it has an event, blocked on through its host
// epoll and its in-place items.
func (ep *Epoll) PollFD() int { return ep.host }

func (ep *Epoll) Unpolled(events int16) int16 {
	if events&unix.POLLIN == 0 {
		return 0
	}
	ep.mu.Lock()
	ws := make([]waiter.Entry, 0, len(ep.order))
	for _, it := range ep.order {
		if !it.fired {
			ws = append(ws, waiter.Entry{W: it.w, Events: int16(it.events&0xffff | epollAlways)})
		}
	}
	ep.mu.Unlock()
	for _, r := range waiter.Readiness(ws, nil) {
		if r != 0 {
			return unix.POLLIN
		}
	}
	return 0
}

func (ep *Epoll) Readiness(events int16) int16 { return readiness(ep, events) }

func (ep *Epoll) Arm(n waiter.Notifier) {
	ep.mu.Lock()
	ws := make([]waiter.Waitable, len(ep.order))
	for i, it := range ep.order {
		ws[i] = it.w
	}
	if ep.armed == nil {
		ep.armed = map[waiter.Notifier][]waiter.Waitable{}
	}
	ep.armed[n] = ws // what Disarm undoes, whatever changes meanwhile
	ep.mu.Unlock()
	for _, w := range ws {
		w.Arm(n)
	}
}

func (ep *Epoll) Disarm(n waiter.Notifier) {
	ep.mu.Lock()
	ws := ep.armed[n]
	delete(ep.armed, n)
	ep.mu.Unlock()
	for _, w := range ws {
		w.Disarm(n)
	}
}
