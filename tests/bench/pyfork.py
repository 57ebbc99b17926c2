# pyfork N: fork of a python3 that has imported a server's worth of modules:
# prints the median of N fork + _exit + waitpid, in milliseconds.
import asyncio, email.parser, http.server, json, os, sys, time, urllib.request, xml.dom.minidom  # noqa: F401

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
times = []
for _ in range(n):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    times.append(time.perf_counter() - t0)
times.sort()
print(f"{times[len(times) // 2] * 1000:.2f}")
