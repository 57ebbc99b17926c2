# Debian's python3: fork, pipes, exit statuses, signals, subprocess running
# python again, and memory it maps.
import mmap, os, signal, subprocess, sys, tempfile

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.write(w, b"child says hi")
    os._exit(7)
os.close(w)
print(os.read(r, 100).decode())
_, st = os.waitpid(pid, 0)
print("child status", os.waitstatus_to_exitcode(st))
pid = os.fork()
if pid == 0:
    signal.pause()
    os._exit(0)
os.kill(pid, signal.SIGTERM)
_, st = os.waitpid(pid, 0)
print("killed child", os.waitstatus_to_exitcode(st))
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print("handled", got)
out = subprocess.run([sys.executable, "-c", "import sys; print('sub python', sys.argv[1:])", "a b"],
                     capture_output=True, text=True)
print(out.stdout.strip(), out.returncode)
print(subprocess.run([sys.executable, "-c", "raise SystemExit(9)"]).returncode)
m = mmap.mmap(-1, 1 << 20)
m[:5] = b"hello"
m.seek(1 << 19)
m.write(b"middle")
print(m[:5], m[1 << 19:(1 << 19) + 6], len(m))
print(sum(range(10**6)))
with tempfile.TemporaryFile() as f:
    f.write(b"y" * 10000)
    f.flush()
    with mmap.mmap(f.fileno(), 10000, access=mmap.ACCESS_READ) as fm:
        print("file mmap", fm[:3], fm[9999:], len(fm))
with tempfile.NamedTemporaryFile("w+", dir="/tmp") as f:
    f.write("named temp file\n")
    f.flush()
    print(open(f.name).read().strip(), os.path.getsize(f.name))
