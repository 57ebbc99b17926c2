package hcall

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
)

// `ukfork run --trace`: one strace-like line per syscall.

// Argument kinds for the calls worth decoding; others print in hex.
const (
	kInt  = 'i' // signed decimal
	kHex  = 'x'
	kPath = 'p' // NUL-terminated string in guest memory
	kBuf  = 'b' // a buffer whose length is the next argument
	kFD   = 'f' // fd, with AT_FDCWD by name
)

var argKinds = map[string]string{
	"read": "fxi", "write": "fbi", "pread64": "fxii", "pwrite64": "fbii",
	"readv": "fxi", "writev": "fxi", "open": "pxx", "openat": "fpxx", "close": "f",
	"stat": "px", "lstat": "px", "fstat": "fx", "newfstatat": "fpxx", "statx": "fpxxx",
	"lseek": "fii", "access": "px", "faccessat": "fpx", "faccessat2": "fpxx",
	"readlink": "pxi", "readlinkat": "fpxi", "chdir": "p", "fchdir": "f",
	"getcwd": "xi", "getdents64": "fxi", "ioctl": "fxx", "exit": "i", "exit_group": "i",
	"brk": "x", "mmap": "xixxfi", "munmap": "xi", "mprotect": "xix", "mremap": "xiixx",
	"madvise": "xii", "arch_prctl": "xx", "set_tid_address": "x", "getrandom": "xix",
	"clock_gettime": "ix", "nanosleep": "xx", "clock_nanosleep": "iixx",
	"rt_sigaction": "ixxi", "rt_sigprocmask": "ixxi", "prlimit64": "iixx",
	"uname": "x", "sysinfo": "x", "sched_getaffinity": "iix", "getpid": "", "getppid": "",
	"gettid": "", "getuid": "", "geteuid": "", "getgid": "", "getegid": "",
	"set_robust_list": "xi", "rseq": "xixx", "execve": "pxx", "kill": "ii",
}

func trace(p *kernel.Task, m machine.Memory, in abi.HCSyscallArgs, _ *abi.HCSyscallArgs) int64 {
	if p.Trace == nil {
		return 0
	}
	name, ok := syscallNames[in.Nr]
	if !ok {
		name = fmt.Sprintf("syscall_%d", in.Nr)
	}
	kinds, known := argKinds[name]
	if !known {
		kinds = "xxxxxx"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%d] %s(", p.Pid, name)
	for i := 0; i < len(kinds) && i < 6; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		a := in.Args[i]
		switch kinds[i] {
		case kInt:
			b.WriteString(strconv.FormatInt(int64(a), 10))
		case kFD:
			if int32(a) == abi.AtFDCWD {
				b.WriteString("AT_FDCWD")
			} else {
				b.WriteString(strconv.FormatInt(int64(int32(a)), 10))
			}
		case kPath:
			b.WriteString(guestString(m, a, 256))
		case kBuf:
			n := uint64(32)
			if i+1 < 6 {
				n = min(n, in.Args[i+1])
			}
			buf, e := copyIn(m, a, n)
			if e != 0 {
				fmt.Fprintf(&b, "%#x", a)
			} else {
				b.WriteString(strconv.Quote(string(buf)))
				if n < in.Args[i+1] {
					b.WriteString("...")
				}
			}
		default:
			fmt.Fprintf(&b, "%#x", a)
		}
	}
	b.WriteString(") = ")
	if r := in.Result; r < 0 && r >= -4095 {
		e := unix.Errno(-r)
		fmt.Fprintf(&b, "-1 %s (%s)", unix.ErrnoName(e), e.Error())
	} else if kinds == "xixxfi" || name == "brk" {
		fmt.Fprintf(&b, "%#x", uint64(r))
	} else {
		b.WriteString(strconv.FormatInt(r, 10))
	}
	b.WriteByte('\n')
	io := p.Trace
	io.Write([]byte(b.String()))
	return 0
}

// guestString quotes a NUL-terminated guest string for display.
func guestString(m machine.Memory, ptr uint64, max uint64) string {
	var b []byte
	for n := uint64(0); n < max; n++ {
		c, e := copyIn(m, ptr+n, 1)
		if e != 0 {
			if n == 0 {
				return fmt.Sprintf("%#x", ptr)
			}
			break
		}
		if c[0] == 0 {
			return strconv.Quote(string(b))
		}
		b = append(b, c[0])
	}
	return strconv.Quote(string(b)) + "..."
}
