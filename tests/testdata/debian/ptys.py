# Pseudo-terminals as programs use them: openpty, termios, window sizes,
# pty.fork with a controlling terminal, /dev/tty, locking. Prints what it
# sees; the test compares it with the same script run natively. Host pty
# numbers differ between the two, so numbers are printed as patterns.
import errno, fcntl, os, pty, re, select, stat, struct, sys, termios, tty

TIOCGPTN, TIOCSPTLCK = 0x80045430, 0x40045431  # not in Python's termios

def show(*a):
    print(*a, flush=True)

def err(f):
    try:
        r = f()
        return "ok" if r is None else r
    except OSError as e:
        return errno.errorcode[e.errno]

def read_all(fd):
    out = b""
    while True:
        try:
            b = os.read(fd, 4096)
        except OSError as e:
            if e.errno == errno.EIO:  # the slave's last holder is gone
                break
            raise
        if not b:
            break
        out += b
    return out

def read_some(fd, want):
    out = b""
    while len(out) < want:
        r, _, _ = select.select([fd], [], [], 5)
        if not r:
            break
        out += os.read(fd, 4096)
    return out

# openpty: the slave is a terminal under /dev/pts, the same file by path.
m, s = os.openpty()
name = os.ttyname(s)
show("isatty", os.isatty(m), os.isatty(s), "name", bool(re.fullmatch(r"/dev/pts/\d+", name)))
st, fst = os.stat(name), os.fstat(s)
show("same file", st.st_rdev == fst.st_rdev and st.st_ino == fst.st_ino, "chr", stat.S_ISCHR(st.st_mode),
     "major", os.major(st.st_rdev))
show("in /dev/pts", os.path.basename(name) in os.listdir("/dev/pts"), "ptmx" in os.listdir("/dev/pts"))
pst = os.stat("/dev/ptmx")
show("ptmx", stat.S_ISCHR(pst.st_mode), os.major(pst.st_rdev), os.minor(pst.st_rdev))

# Cooked mode: the line discipline echoes, maps CR to NL, and gives a line.
os.write(m, b"hello\r")
show("slave reads", os.read(s, 100))
show("master sees echo", read_some(m, 7))
os.write(s, b"out\n")
show("onlcr", read_some(m, 5))

# Raw mode set through the slave: no echo, bytes as they are.
tty.setraw(s)
attrs = termios.tcgetattr(s)
show("raw lflag echo", bool(attrs[3] & termios.ECHO), "icanon", bool(attrs[3] & termios.ICANON))
os.write(m, b"ab\rc")
show("raw reads", read_some(s, 4))
termios.tcsetattr(s, termios.TCSANOW, attrs)

# Window size set on one side is seen on the other.
fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
show("winsize", struct.unpack("HHHH", fcntl.ioctl(m, termios.TIOCGWINSZ, b"\0" * 8)))
show("fionread", struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\0" * 4))[0])

# Job control on a terminal that is not ours, from a process that leads
# no session.
pid = os.fork()
if pid == 0:
    show("tcgetpgrp not ctty", err(lambda: os.tcgetpgrp(s)))
    show("TIOCSCTTY not leader", err(lambda: fcntl.ioctl(s, termios.TIOCSCTTY, 0)))
    os._exit(0)
os.waitpid(pid, 0)
show("TIOCGPTN on slave", err(lambda: fcntl.ioctl(s, TIOCGPTN, b"\0" * 4)))
os.close(s)
os.close(m)

# A master opened by hand is locked until unlockpt.
m = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
n = struct.unpack("I", fcntl.ioctl(m, TIOCGPTN, b"\0" * 4))[0]
show("locked open", err(lambda: os.open("/dev/pts/%d" % n, os.O_RDWR | os.O_NOCTTY)))
fcntl.ioctl(m, TIOCSPTLCK, struct.pack("i", 0))
s = os.open("/dev/pts/%d" % n, os.O_RDWR | os.O_NOCTTY)
show("unlocked open", os.isatty(s), os.ttyname(s) == "/dev/pts/%d" % n)
os.close(s)
os.close(m)
show("closed gone", err(lambda: os.stat("/dev/pts/%d" % n)))

# A new session has no controlling terminal: /dev/tty is ENXIO.
pid = os.fork()
if pid == 0:
    os.setsid()
    show("no ctty /dev/tty", err(lambda: os.open("/dev/tty", os.O_RDWR)))
    os._exit(0)
os.waitpid(pid, 0)

# pty.fork: the child leads a session whose controlling terminal is the
# pty; it reads a line typed on the master and answers.
pid, m = pty.fork()
if pid == 0:
    show("child tty", os.isatty(0), os.isatty(1), bool(re.fullmatch(r"/dev/pts/\d+", os.ttyname(0))))
    show("leader", os.getsid(0) == os.getpid(), "fg", os.tcgetpgrp(0) == os.getpgrp())
    fd = os.open("/dev/tty", os.O_RDWR)
    st = os.fstat(fd)
    show("/dev/tty", stat.S_ISCHR(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev), os.path.samestat(st, os.fstat(0)))
    os.write(fd, b"via /dev/tty\n")
    show("ready")
    show("got", repr(sys.stdin.readline()))
    os._exit(7)
out = b""
while not out.endswith(b"ready\r\n"):
    b = read_some(m, 1)
    if not b:
        break
    out += b
os.write(m, b"typed\n")
out += read_all(m)
_, status = os.waitpid(pid, 0)
show("pty.fork output", out)
show("status", os.waitstatus_to_exitcode(status))
os.close(m)
