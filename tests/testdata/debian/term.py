# The terminal a run is started on, as its program sees it: a tty under
# /dev/pts, its size, the controlling terminal through /dev/tty, the
# foreground group. Ends in raw mode, without restoring it.
import os, re, sys, tty

print("ttys", os.isatty(0), os.isatty(1), os.isatty(2), bool(re.fullmatch(r"/dev/pts/\d+", os.ttyname(0))))
print("size", tuple(os.get_terminal_size(0)))
print("fg", os.tcgetpgrp(0) == os.getpgrp(), "leader", os.getsid(0) == os.getpid())
fd = os.open("/dev/tty", os.O_RDWR)
os.write(fd, b"via /dev/tty\n")
sys.stdout.flush()
tty.setraw(0)
os.write(1, b"raw\n")
