// The ioctl requests a guest may make, as data: what each argument is.

package vfs

import "golang.org/x/sys/unix"

// IoctlArg says how a request's argument travels. A request Linux passes
// by value (TCFLSH's queue, TIOCSCTTY's force flag) has Size 0: the raw
// value reaches the file as 8 little-endian bytes. A pointer request has
// the size of what it points at, copied in before the call (In) and out
// after it (Out). libc-shim/sys_fs.c keeps the same sizes for the pointer
// requests, to check the program's buffer (a test compares the two).
type IoctlArg struct {
	Size    int
	In, Out bool
}

// valueSize is the buffer size of a by-value request.
const valueSize = 8

// BufSize is the size of the buffer the file gets.
func (a IoctlArg) BufSize() int {
	if a.Size == 0 {
		return valueSize
	}
	return a.Size
}

const termiosSize = 36 // struct termios of the kernel ABI (asm-generic/termbits.h)

// Ioctls are the requests served, by number; everything else is ENOTTY.
// FIOCLEX, FIONCLEX, FIONBIO and FIOASYNC are served for any fd by the caller.
var Ioctls = map[uint64]IoctlArg{
	unix.TCGETS:      {Size: termiosSize, Out: true},
	unix.TCSETS:      {Size: termiosSize, In: true},
	unix.TCSETSW:     {Size: termiosSize, In: true},
	unix.TCSETSF:     {Size: termiosSize, In: true},
	unix.TIOCGWINSZ:  {Size: 8, Out: true},
	unix.TIOCSWINSZ:  {Size: 8, In: true},
	fionread:         {Size: 4, Out: true},
	unix.TIOCOUTQ:    {Size: 4, Out: true},
	unix.TCFLSH:      {},
	unix.TCXONC:      {},
	unix.TCSBRK:      {},
	unix.TCSBRKP:     {},
	unix.TIOCEXCL:    {},
	unix.TIOCNXCL:    {},
	unix.TIOCGEXCL:   {Size: 4, Out: true},
	unix.TIOCGPTN:    {Size: 4, Out: true},
	unix.TIOCSPTLCK:  {Size: 4, In: true},
	unix.TIOCGPTLCK:  {Size: 4, Out: true},
	unix.TIOCPKT:     {Size: 4, In: true},
	unix.TIOCGPKT:    {Size: 4, Out: true},
	unix.TIOCSCTTY:   {},
	unix.TIOCNOTTY:   {},
	unix.TIOCGPGRP:   {Size: 4, Out: true},
	unix.TIOCSPGRP:   {Size: 4, In: true},
	unix.TIOCGSID:    {Size: 4, Out: true},
	unix.TIOCGPTPEER: {},
}
