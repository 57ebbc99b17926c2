package hcall

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/machine"
	"github.com/ukfork/ukfork/hypervisor/machine/machinetest"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/toolchain/image"
)

// testProc is the first process of a run over a small in-memory tree and
// 16 MiB of fake guest RAM (machinetest): the real process model, no KVM.
func testProc(t testing.TB) (*kernel.Task, machine.Memory) {
	content := []byte("0123456789abcdef")
	files := []image.Entry{
		{Path: "/etc", Type: image.TypeDir, Mode: 0o755},
		{Path: "/etc/f", Type: image.TypeFile, Mode: 0o644, Data: image.Blob{Off: 0, Size: uint64(len(content))}},
		{Path: "/etc/l", Type: image.TypeSymlink, Target: "../../../etc/f"},
	}
	fs := vfs.New(files, bytes.NewReader(content))
	space := vfs.NewSpace(1 << 20)
	ns := vfs.NewNamespace(vfs.NewLayer(fs, space, 0x75))
	ns.Memfd = vfs.NewTmpfs(space, 0x7f, 0o1777)
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(null.Fd())
	k := kernel.New(kernel.Config{Backend: &machinetest.Backend{}, Handler: NewHandler, Stderr: io.Discard, MaxProcs: 16})
	task, err := k.Start(kernel.Init{Name: "test", NS: ns, Stdio: [3]int{fd, fd, fd}, Stderr: io.Discard,
		Machine: machine.Config{MemSize: 16 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	m := task.M.(*machinetest.Machine).FakeMem()
	t.Cleanup(func() { k.StopAll(unix.SIGKILL); k.Wait(); null.Close() })
	return task, m
}

const argAt = 0x10000 // where tests put argument structs
const bufAt = 0x20000

func put[T any](t testing.TB, m machine.Memory, gpa uint64, v T) *T {
	p, err := machine.Ptr[T](m, gpa)
	if err != nil {
		t.Fatal(err)
	}
	*p = v
	return p
}

// encode lays out an argument struct (or raw bytes) as the guest does.
func encode(v any) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v)
	return b.Bytes()
}

func putPath(m machine.Memory, s string) (uint64, uint64) {
	b, _ := m.Slice(bufAt, uint64(len(s)))
	copy(b, s)
	return bufAt, uint64(len(s))
}

func TestOpenReadClose(t *testing.T) {
	p, m := testProc(t)
	tests := []struct {
		path  string
		flags int32
		want  int64
	}{
		{"/etc/f", unix.O_RDONLY, 3},
		{"/etc/l", unix.O_RDONLY, 3}, // relative symlink climbing past the root
		{"/etc/missing", unix.O_RDONLY, -int64(unix.ENOENT)},
		{"/etc/f", unix.O_WRONLY, 3}, // the run's layer over the image
		{"/etc/new", unix.O_CREAT | unix.O_WRONLY, 3},
		{"/nope/new", unix.O_CREAT | unix.O_WRONLY, -int64(unix.ENOENT)},
		{"/etc/f", unix.O_CREAT | unix.O_EXCL, -int64(unix.EEXIST)},
		{"/etc/f/x", unix.O_RDONLY, -int64(unix.ENOTDIR)},
		{"/etc/l", unix.O_NOFOLLOW, -int64(unix.ELOOP)},
		{"/etc", unix.O_WRONLY, -int64(unix.EISDIR)},
		{"/etc/f", unix.O_DIRECTORY, -int64(unix.ENOTDIR)},
		{"", unix.O_RDONLY, -int64(unix.ENOENT)},
		{"/etc/f", 1 << 30, 3}, // unknown flags are ignored, as Linux
		{"/etc", unix.O_TMPFILE | unix.O_RDONLY, -int64(unix.EINVAL)},
		{"/etc", unix.O_TMPFILE | unix.O_RDWR, 3},
		{"/etc/f", unix.O_TMPFILE | unix.O_RDWR, -int64(unix.ENOTDIR)},
	}
	for _, tc := range tests {
		ptr, n := putPath(m, tc.path)
		a := put(t, m, argAt, abi.HCOpenatArgs{At: abi.At{Dirfd: abi.AtFDCWD, Path: ptr, Pathlen: n}, Flags: tc.flags})
		if e := Dispatch(p, m, abi.HCOpenat, argAt); e != nil {
			t.Fatalf("open %q ended the VM: %+v", tc.path, e)
		}
		if a.Ret != tc.want {
			t.Errorf("open(%q, %#x) = %d, want %d", tc.path, tc.flags, a.Ret, tc.want)
		}
		ret := a.Ret
		if fd := int32(ret); fd >= 0 && tc.flags&unix.O_ACCMODE != unix.O_WRONLY && tc.flags&unix.O_TMPFILE != unix.O_TMPFILE {
			put(t, m, 0x30000, abi.Iovec{Base: 0x40000, Len: 100})
			rw := put(t, m, argAt, abi.HCRWArgs{Fd: fd, Iov: 0x30000, Iovcnt: 1})
			Dispatch(p, m, abi.HCReadv, argAt)
			got, _ := m.Slice(0x40000, 16)
			if rw.Ret != 16 || string(got) != "0123456789abcdef" {
				t.Errorf("read %q = %d %q", tc.path, rw.Ret, got)
			}
		}
		if fd := int32(ret); fd >= 0 {
			c := put(t, m, argAt, abi.HCCloseArgs{Fd: fd})
			Dispatch(p, m, abi.HCClose, argAt)
			if c.Ret != 0 {
				t.Errorf("close = %d", c.Ret)
			}
		}
	}
}

func TestHostileArguments(t *testing.T) {
	p, m := testProc(t)
	size := m.Size()
	tests := []struct {
		name string
		nr   uint16
		arg  any
		want int64
	}{
		{"read bad fd", abi.HCReadv, abi.HCRWArgs{Fd: 99, Iov: bufAt, Iovcnt: 1}, -int64(unix.EBADF)},
		{"read negative fd", abi.HCReadv, abi.HCRWArgs{Fd: -5, Iov: bufAt, Iovcnt: 1}, -int64(unix.EBADF)},
		{"iov out of memory", abi.HCWritev, abi.HCRWArgs{Fd: 1, Iov: size - 8, Iovcnt: 1}, -int64(unix.EFAULT)},
		{"too many iovs", abi.HCWritev, abi.HCRWArgs{Fd: 1, Iov: bufAt, Iovcnt: 1025}, -int64(unix.EINVAL)},
		{"bad rw flags", abi.HCWritev, abi.HCRWArgs{Fd: 1, Iov: bufAt, Iovcnt: 0, Flags: 8}, -int64(unix.EINVAL)},
		{"negative pread offset", abi.HCReadv, abi.HCRWArgs{Fd: 0, Iov: bufAt, Flags: abi.RWOffset, Offset: -1}, -int64(unix.EINVAL)},
		{"path out of memory", abi.HCOpenat, abi.HCOpenatArgs{At: abi.At{Dirfd: abi.AtFDCWD, Path: size - 2, Pathlen: 10}}, -int64(unix.EFAULT)},
		{"path in page 0", abi.HCOpenat, abi.HCOpenatArgs{At: abi.At{Dirfd: abi.AtFDCWD, Path: 0, Pathlen: 4}}, -int64(unix.EFAULT)},
		{"path too long", abi.HCOpenat, abi.HCOpenatArgs{At: abi.At{Dirfd: abi.AtFDCWD, Path: bufAt, Pathlen: 5000}}, -int64(unix.ENAMETOOLONG)},
		{"dirfd not a dir", abi.HCOpenat, abi.HCOpenatArgs{At: abi.At{Dirfd: 1, Path: bufAt, Pathlen: 1}}, -int64(unix.ENOTDIR)},
		{"stat buf out of memory", abi.HCFstatat, abi.HCFstatatArgs{At: abi.At{Dirfd: 1, Flags: unix.AT_EMPTY_PATH}, Statbuf: size - 8}, -int64(unix.EFAULT)},
		{"stat bad flags", abi.HCFstatat, abi.HCFstatatArgs{At: abi.At{Dirfd: 1, Flags: 1 << 20}, Statbuf: bufAt}, -int64(unix.EINVAL)},
		{"getcwd tiny buffer", abi.HCGetcwd, abi.HCGetcwdArgs{Buf: bufAt, Size: 1}, -int64(unix.ERANGE)},
		{"getrandom cut at the end of memory", abi.HCGetrandom, abi.HCGetrandomArgs{Buf: size - 4, Len: 64}, 4}, // Linux returns what it copied before the fault
		{"getrandom out of memory", abi.HCGetrandom, abi.HCGetrandomArgs{Buf: size, Len: 64}, -int64(unix.EFAULT)},
		{"discard unaligned", abi.HCDiscard, abi.HCDiscardArgs{Addr: abi.UserMin + 1, Len: 4096}, -int64(unix.EINVAL)},
		{"discard runtime area", abi.HCDiscard, abi.HCDiscardArgs{Addr: 0x1000, Len: 4096}, -int64(unix.EINVAL)},
		{"discard past the end", abi.HCDiscard, abi.HCDiscardArgs{Addr: size - 4096, Len: 8192}, -int64(unix.EFAULT)},
		{"lseek bad whence", abi.HCLseek, abi.HCLseekArgs{Fd: 0, Whence: 9}, -int64(unix.EINVAL)},
		{"ioctl unknown", abi.HCIoctl, abi.HCIoctlArgs{Fd: 1, Request: 0x1234, Arg: bufAt}, -int64(unix.ENOTTY)},
		{"ioctl not a tty, buf out of memory", abi.HCIoctl, abi.HCIoctlArgs{Fd: 1, Request: unix.TCGETS, Arg: size - 4}, -int64(unix.ENOTTY)}, // the file answers before the copy
		{"close bad fd", abi.HCClose, abi.HCCloseArgs{Fd: 1 << 30}, -int64(unix.EBADF)},
		{"epoll_create1 bad flag", abi.HCEpollCreate, abi.HCEpollCreateArgs{Flags: 1}, -int64(unix.EINVAL)},
		{"epoll_ctl event out of memory", abi.HCEpollCtl, abi.HCEpollCtlArgs{Epfd: 0, Op: unix.EPOLL_CTL_ADD, Fd: 1, Event: size - 4}, -int64(unix.EFAULT)},
		{"epoll_ctl not an epoll", abi.HCEpollCtl, abi.HCEpollCtlArgs{Epfd: 0, Op: unix.EPOLL_CTL_ADD, Fd: 1, Event: bufAt}, -int64(unix.EINVAL)},
		{"epoll_ctl bad fd", abi.HCEpollCtl, abi.HCEpollCtlArgs{Epfd: 0, Op: unix.EPOLL_CTL_DEL, Fd: 1 << 30}, -int64(unix.EBADF)},
		{"epoll_wait no room", abi.HCEpollWait, abi.HCEpollWaitArgs{Epfd: 0, Maxevents: 0, Events: bufAt}, -int64(unix.EINVAL)},
		{"epoll_wait too many", abi.HCEpollWait, abi.HCEpollWaitArgs{Epfd: 0, Maxevents: 1 << 30, Events: bufAt}, -int64(unix.EINVAL)},
		{"epoll_wait events out of memory", abi.HCEpollWait, abi.HCEpollWaitArgs{Epfd: 0, Maxevents: 2, Events: size - 12}, -int64(unix.EFAULT)},
		{"epoll_wait not an epoll", abi.HCEpollWait, abi.HCEpollWaitArgs{Epfd: 0, Maxevents: 1, Events: bufAt}, -int64(unix.EINVAL)},
		{"eventfd bad flag", abi.HCEventfd, abi.HCEventfdArgs{Flags: 2}, -int64(unix.EINVAL)},
		{"timerfd bad clock", abi.HCTimerfd, abi.HCTimerfdArgs{Op: abi.TimerfdCreate, Fd: 99}, -int64(unix.EINVAL)},
		{"timerfd alarm clock", abi.HCTimerfd, abi.HCTimerfdArgs{Op: abi.TimerfdCreate, Fd: unix.CLOCK_BOOTTIME_ALARM}, -int64(unix.EPERM)},
		{"timerfd_settime value out of memory", abi.HCTimerfd, abi.HCTimerfdArgs{Op: abi.TimerfdSet, Fd: 0, New_value: size - 8}, -int64(unix.EFAULT)},
		{"timerfd_settime not a timer", abi.HCTimerfd, abi.HCTimerfdArgs{Op: abi.TimerfdSet, Fd: 0, New_value: bufAt}, -int64(unix.EINVAL)},
		{"timerfd bad op", abi.HCTimerfd, abi.HCTimerfdArgs{Op: 9, Fd: 0}, -int64(unix.EINVAL)},
		{"shm empty", abi.HCShm, abi.HCShmArgs{Op: abi.ShmAnon}, -int64(unix.EINVAL)},
		{"shm not pages", abi.HCShm, abi.HCShmArgs{Op: abi.ShmAnon, Size: 4097}, -int64(unix.EINVAL)},
		{"shm past the window", abi.HCShm, abi.HCShmArgs{Op: abi.ShmAnon, Size: abi.ShmMax + 4096}, -int64(unix.EINVAL)},
		{"shm unmap of nothing", abi.HCShm, abi.HCShmArgs{Op: abi.ShmUnmap, Gpa: abi.ShmGPA}, -int64(unix.EINVAL)},
		{"shm bad op", abi.HCShm, abi.HCShmArgs{Op: 7}, -int64(unix.EINVAL)},
		{"shm file bad fd", abi.HCShm, abi.HCShmArgs{Op: abi.ShmFile, Fd: 1 << 20, Size: 4096}, -int64(unix.EBADF)},
		{"shm file bad prot", abi.HCShm, abi.HCShmArgs{Op: abi.ShmFile, Fd: 1, Size: 4096, Prot: 0x100}, -int64(unix.EINVAL)},
		{"shm file not mappable", abi.HCShm, abi.HCShmArgs{Op: abi.ShmFile, Fd: 1, Size: 4096, Prot: unix.PROT_READ}, -int64(unix.ENODEV)},
		{"memfd bad flags", abi.HCMemfd, abi.HCMemfdArgs{Name: bufAt, Namelen: 1, Flags: 0x1000}, -int64(unix.EINVAL)},
		{"memfd exec and noexec", abi.HCMemfd, abi.HCMemfdArgs{Name: bufAt, Namelen: 1, Flags: 0x18}, -int64(unix.EINVAL)},
		{"memfd long name", abi.HCMemfd, abi.HCMemfdArgs{Name: bufAt, Namelen: 250}, -int64(unix.EINVAL)},
		{"memfd name out of memory", abi.HCMemfd, abi.HCMemfdArgs{Name: size - 2, Namelen: 10}, -int64(unix.EFAULT)},
		{"signalfd bad flags", abi.HCSignalfd, abi.HCSignalfdArgs{Fd: -1, Flags: 4}, -int64(unix.EINVAL)},
		{"signalfd bad fd", abi.HCSignalfd, abi.HCSignalfdArgs{Fd: 1 << 20}, -int64(unix.EBADF)},
		{"signalfd not one", abi.HCSignalfd, abi.HCSignalfdArgs{Fd: 1}, -int64(unix.EINVAL)},
		{"stop by no stop signal", abi.HCStop, abi.HCStopArgs{Sig: 15}, -int64(unix.EINVAL)},
		{"stop by a bad signal", abi.HCStop, abi.HCStopArgs{Sig: 99}, -int64(unix.EINVAL)},
		{"ipc bad op", abi.HCIpc, abi.HCIpcArgs{Op: 99}, -int64(unix.EINVAL)},
		{"shmget empty", abi.HCIpc, abi.HCIpcArgs{Op: abi.IpcShmget, Key: unix.IPC_PRIVATE, Size: 0, Flags: 0o600}, -int64(unix.EINVAL)},
		{"shmget past SHMMAX", abi.HCIpc, abi.HCIpcArgs{Op: abi.IpcShmget, Key: unix.IPC_PRIVATE, Size: 1 << 62, Flags: 0o600}, -int64(unix.EINVAL)},
		{"shmget no such key", abi.HCIpc, abi.HCIpcArgs{Op: abi.IpcShmget, Key: 77, Size: 4096, Flags: 0o600}, -int64(unix.ENOENT)},
		{"shmat bad id", abi.HCIpc, abi.HCIpcArgs{Op: abi.IpcShmat, Id: 12345}, -int64(unix.EINVAL)},
		{"shmat negative id", abi.HCIpc, abi.HCIpcArgs{Op: abi.IpcShmat, Id: -1}, -int64(unix.EINVAL)},
		{"shmctl bad id", abi.HCIpc, abi.HCIpcArgs{Op: abi.IpcShmctl, Id: 12345, Flags: unix.IPC_STAT, Buf: bufAt}, -int64(unix.EINVAL)},
		{"shmctl info out of memory", abi.HCIpc, abi.HCIpcArgs{Op: abi.IpcShmctl, Flags: 3, Buf: size - 8}, -int64(unix.EFAULT)},
		{"shmctl set out of memory", abi.HCIpc, abi.HCIpcArgs{Op: abi.IpcShmctl, Flags: unix.IPC_SET, Buf: size - 8}, -int64(unix.EFAULT)},
		{"shm_stat bad slot", abi.HCIpc, abi.HCIpcArgs{Op: abi.IpcShmctl, Id: 1 << 30, Flags: 13, Buf: bufAt}, -int64(unix.EINVAL)},
		{"futex unaligned", abi.HCFutex, abi.HCFutexArgs{Op: 0, Uaddr: bufAt + 1, Val3: 1}, -int64(unix.EINVAL)},
		{"futex on private memory", abi.HCFutex, abi.HCFutexArgs{Op: 1, Uaddr: bufAt, Val: 1, Val3: 1}, -int64(unix.EFAULT)},
		{"futex out of memory", abi.HCFutex, abi.HCFutexArgs{Op: 0, Uaddr: size, Val3: 1}, -int64(unix.EFAULT)},
		{"futex PI", abi.HCFutex, abi.HCFutexArgs{Op: 6, Uaddr: bufAt}, -int64(unix.ENOSYS)},
		{"close_range first past last", abi.HCClose, abi.HCCloseArgs{Fd: 5, Last: 4, Flags: abi.CloseRange}, -int64(unix.EINVAL)},
		{"close_range unknown flag", abi.HCClose, abi.HCCloseArgs{Fd: 1 << 30, Last: 1<<32 - 1, Flags: abi.CloseRange | 1}, -int64(unix.EINVAL)},
		{"close_range past the table", abi.HCClose, abi.HCCloseArgs{Fd: 1 << 30, Last: 1<<32 - 1, Flags: abi.CloseRange}, 0},
		{"sleep negative", abi.HCNanosleep, abi.HCNanosleepArgs{Duration: -1}, -int64(unix.EINVAL)},
		{"readlink zero len", abi.HCReadlinkat, abi.HCReadlinkatArgs{At: abi.At{Dirfd: abi.AtFDCWD, Path: bufAt, Pathlen: 1}, Buf: bufAt, Bufsiz: 0}, -int64(unix.EINVAL)},
		{"raw socket", abi.HCSocket, abi.HCSockArgs{Op: abi.SockSocket, A: [3]int64{unix.AF_INET, unix.SOCK_RAW, 0}}, -int64(unix.ESOCKTNOSUPPORT)},
		{"packet socket", abi.HCSocket, abi.HCSockArgs{Op: abi.SockSocket, A: [3]int64{unix.AF_PACKET, unix.SOCK_DGRAM, 0}}, -int64(unix.EAFNOSUPPORT)},
		{"netlink socket", abi.HCSocket, abi.HCSockArgs{Op: abi.SockSocket, A: [3]int64{unix.AF_NETLINK, unix.SOCK_DGRAM, 0}}, -int64(unix.EAFNOSUPPORT)},
		{"socket op on a pipe-less fd", abi.HCSocket, abi.HCSockArgs{Op: abi.SockListen, Fd: 1}, -int64(unix.ENOTSOCK)},
		{"socket op bad fd", abi.HCSocket, abi.HCSockArgs{Op: abi.SockListen, Fd: 77}, -int64(unix.EBADF)},
		{"kill bad signal", abi.HCKill, abi.HCKillArgs{Pid: 1, Sig: 65}, -int64(unix.EINVAL)},
		{"kill no such pid", abi.HCKill, abi.HCKillArgs{Pid: 4242, Sig: 0}, -int64(unix.ESRCH)},
		{"setpgid negative", abi.HCSetpgid, abi.HCSetpgidArgs{Pid: 0, Pgid: -3}, -int64(unix.EINVAL)},
		{"itimer negative interval", abi.HCItimer, abi.HCItimerArgs{Value_ns: 1, Interval_ns: -1}, -int64(unix.EINVAL)},
		{"wait4 no child before status", abi.HCWait4, abi.HCWait4Args{Pid: -1, Status: size - 2}, -int64(unix.ECHILD)}, // as Linux
		{"wait4 bad options", abi.HCWait4, abi.HCWait4Args{Pid: -1, Options: 0x100}, -int64(unix.EINVAL)},
		{"pipe fds out of memory", abi.HCPipe, abi.HCPipeArgs{Fds: size - 4}, -int64(unix.EFAULT)},
		{"pipe bad flags", abi.HCPipe, abi.HCPipeArgs{Flags: 1, Fds: bufAt}, -int64(unix.EINVAL)},
		{"dup2 huge target", abi.HCDup, abi.HCDupArgs{Fd: 1, Newfd: 1 << 20, Mode: abi.DupTo}, -int64(unix.EBADF)},
		{"fcntl unknown", abi.HCFcntl, abi.HCFcntlArgs{Fd: 1, Cmd: 9999}, -int64(unix.EINVAL)},
		{"poll too many", abi.HCPoll, abi.HCPollArgs{Fds: bufAt, Nfds: 1 << 20}, -int64(unix.EINVAL)},
		{"poll out of memory", abi.HCPoll, abi.HCPollArgs{Fds: size - 4, Nfds: 1}, -int64(unix.EFAULT)},
		{"access bad mode", abi.HCFaccessat, abi.HCFaccessatArgs{At: abi.At{Dirfd: abi.AtFDCWD, Path: bufAt, Pathlen: 1}, Mode: 64}, -int64(unix.EINVAL)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := m.Slice(argAt, 256)
			clear(b)
			putPath(m, "f\x00")
			copy(b, encode(tc.arg))
			if e := Dispatch(p, m, tc.nr, argAt); e != nil {
				t.Fatalf("ended the VM: %+v", e)
			}
			if got := *(*int64)(unsafe.Pointer(&b[0])); got != tc.want {
				t.Errorf("ret = %d (%v), want %d (%v)", got, unix.Errno(-got), tc.want, unix.Errno(-tc.want))
			}
		})
	}
}

// A struct that is not in guest memory cannot carry an errno back: the VM
// ends (SIGSYS), and the host goes on.
func TestArgumentStructOutOfMemory(t *testing.T) {
	p, m := testProc(t)
	for _, gpa := range []uint64{0, 8, m.Size() - 8, m.Size(), 1 << 62, argAt + 4} {
		e := Dispatch(p, m, abi.HCOpenat, gpa)
		if e == nil || e.Signal != unix.SIGSYS {
			t.Errorf("struct at %#x: got %+v, want the VM ended with SIGSYS", gpa, e)
		}
	}
	if e := Dispatch(p, m, 120, argAt); e == nil { // no hypercall has 120
		t.Errorf("unknown hypercall did not end the VM")
	}
}

// FuzzDispatch drives every hypercall with hostile numbers, addresses and
// argument bytes: the host must never panic and must stay inside guest RAM.
func FuzzDispatch(f *testing.F) {
	cwd := abi.At{Dirfd: abi.AtFDCWD, Path: bufAt, Pathlen: 2}
	for _, c := range []struct {
		nr  uint16
		gpa uint64
		arg any
	}{
		{abi.HCOpenat, argAt, abi.HCOpenatArgs{At: cwd}},
		{abi.HCReadv, argAt, make([]byte, 48)},
		{abi.HCWritev, 0xfff8, []byte{1, 2, 3}},
		{abi.HCFstatat, argAt, bytes.Repeat([]byte{0xff}, 64)},
		{abi.HCFstatat, argAt, abi.HCFstatatArgs{At: abi.At{Dirfd: 0, Flags: unix.AT_EMPTY_PATH}, Statbuf: bufAt}},
		{abi.HCGetdents64, argAt, []byte{}},
		{abi.HCFork, argAt, make([]byte, 16)},
		{abi.HCWait4, argAt, abi.HCWait4Args{Pid: -1}},
		{abi.HCKill, argAt, make([]byte, 24)},
		{abi.HCUnlinkat, argAt, abi.HCUnlinkatArgs{At: cwd}},
		{abi.HCChdir, argAt, abi.HCChdirArgs{At: abi.At{Dirfd: 0}}},
		{abi.HCReadlinkat, argAt, abi.HCReadlinkatArgs{At: cwd, Buf: bufAt, Bufsiz: 64}},
		{abi.HCDup, argAt, abi.HCDupArgs{Fd: 1, Newfd: 2, Mode: abi.DupTo}},
		{abi.HCFcntl, argAt, abi.HCFcntlArgs{Fd: 1, Cmd: fDupfd, Arg: 1 << 63}},
		{abi.HCLseek, argAt, abi.HCLseekArgs{Fd: 0, Whence: -1}},
		{abi.HCSendfile, argAt, abi.HCSendfileArgs{Out_fd: 1, In_fd: 0, Offset: -1, Count: 1 << 40}},
		{abi.HCIoctl, argAt, abi.HCIoctlArgs{Fd: 1, Request: unix.TCGETS, Arg: bufAt}},
		{abi.HCPrlimit, argAt, abi.HCPrlimitArgs{Pid: 0, Resource: 7, Flags: abi.PrlimitSet, New_lim: abi.Rlimit{Cur: 1 << 63, Max: 1 << 63}}},
		{abi.HCMknodat, argAt, abi.HCMknodatArgs{At: cwd, Mode: unix.S_IFDIR | 0o755}},
		{abi.HCRenameat, argAt, abi.HCAt2Args{From: cwd, To: abi.At{Dirfd: abi.AtFDCWD, Path: bufAt + 1, Pathlen: 1}, Flags: 2}},
		{abi.HCLinkat, argAt, abi.HCAt2Args{From: abi.At{Dirfd: 3, Flags: unix.AT_EMPTY_PATH}, To: cwd}},
		{abi.HCSymlinkat, argAt, abi.HCSymlinkatArgs{Target: bufAt, Targetlen: 3, At: cwd}},
		{abi.HCTruncate, argAt, abi.HCTruncateArgs{At: cwd, Length: 1 << 40}},
		{abi.HCFallocate, argAt, abi.HCFallocateArgs{Fd: 3, Offset: 1 << 62, Len: 1 << 62}},
		{abi.HCFsync, argAt, abi.HCFsyncArgs{Fd: 1, Op: abi.Syncfs}},
		{abi.HCUtimensat, argAt, abi.HCUtimensatArgs{At: cwd, Times: [2]abi.Utime{{Nsec: -1}, {Sec: 1}}}},
		{abi.HCFchmodat, argAt, abi.HCFchmodatArgs{At: abi.At{Dirfd: 0, Flags: unix.AT_EMPTY_PATH}, Mode: 0o7777}},
		{abi.HCFchownat, argAt, abi.HCFchownatArgs{At: cwd, Uid: 0xffffffff, Gid: 7}},
		{abi.HCStatfs, argAt, abi.HCStatfsArgs{At: cwd, Buf: bufAt}},
		{abi.HCEpollCreate, argAt, abi.HCEpollCreateArgs{}},
		{abi.HCEpollCtl, argAt, abi.HCEpollCtlArgs{Epfd: 3, Op: 1, Fd: 0, Event: bufAt}},
		{abi.HCEpollWait, argAt, abi.HCEpollWaitArgs{Epfd: 3, Maxevents: 300, Events: bufAt, Timeout: -1}},
		{abi.HCEventfd, argAt, abi.HCEventfdArgs{Initval: 1, Flags: unix.EFD_SEMAPHORE}},
		{abi.HCTimerfd, argAt, abi.HCTimerfdArgs{Op: abi.TimerfdSet, Fd: 3, New_value: bufAt, Old_value: bufAt}},
		{abi.HCShm, argAt, abi.HCShmArgs{Op: abi.ShmAnon, Size: 1 << 20}},
		{abi.HCFutex, argAt, abi.HCFutexArgs{Op: 4, Uaddr: bufAt, Uaddr2: bufAt + 4, Val: 1, Val2: 1}},
	} {
		f.Add(c.nr, c.gpa, encode(c.arg))
	}
	f.Fuzz(func(t *testing.T, nr uint16, gpa uint64, data []byte) {
		p, m := testProc(t)
		if len(data) > 4096 {
			data = data[:4096]
		}
		// The fuzzer's bytes are the argument struct and, repeated, the
		// memory its pointers may land in.
		b, _ := m.Slice(argAt, 4096)
		copy(b, data)
		b2, _ := m.Slice(bufAt, 4096)
		copy(b2, data)
		nr %= abi.HCMax
		// Calls that wait (sleep, poll, sigwait) return EINTR at once: the
		// waiting is not what is fuzzed.
		p.Interrupt()
		Dispatch(p, m, nr, gpa)
		Dispatch(p, m, nr, argAt)
	})
}

// TestIovecs: a buffer is cut at the end of guest RAM instead of refused;
// EFAULT only for a start outside RAM or a range past the user address
// space; a negative length anywhere is EINVAL first, as Linux.
func TestIovecs(t *testing.T) {
	_, m := testProc(t)
	size := m.Size()
	buf := uint64(abi.UserMin) // above the exception stack, as program memory is
	tests := []struct {
		name string
		iov  []abi.Iovec
		lens []int
		want unix.Errno
	}{
		{"huge length cut at the end of RAM", []abi.Iovec{{Base: buf, Len: 1 << 40}}, []int{int(size - buf)}, 0},
		{"two buffers", []abi.Iovec{{Base: buf, Len: 10}, {Base: size - 4, Len: 100}}, []int{10, 4}, 0},
		{"empty buffer anywhere", []abi.Iovec{{Base: 1 << 50, Len: 0}, {Base: buf, Len: 3}}, []int{3}, 0},
		{"start beyond RAM", []abi.Iovec{{Base: buf, Len: 1}, {Base: size, Len: 1}}, nil, unix.EFAULT},
		{"past the user address space", []abi.Iovec{{Base: buf, Len: 1 << 47}}, nil, unix.EFAULT},
		{"negative length after a bad start", []abi.Iovec{{Base: size, Len: 1}, {Base: buf, Len: 1 << 63}}, nil, unix.EINVAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, v := range tc.iov {
				put(t, m, argAt+uint64(i)*16, v)
			}
			bufs, e := iovecs(m, argAt, uint64(len(tc.iov)), true)
			if e != tc.want {
				t.Fatalf("errno %v, want %v", e, tc.want)
			}
			var lens []int
			for _, b := range bufs {
				lens = append(lens, len(b))
			}
			if fmt.Sprint(lens) != fmt.Sprint(tc.lens) {
				t.Errorf("lengths %v, want %v", lens, tc.lens)
			}
		})
	}
}
