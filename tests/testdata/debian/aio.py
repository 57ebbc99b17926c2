# Debian's python3 event loops, which wait in epoll: asyncio TCP servers
# and clients, timers, signal handlers through the loop's wakeup fd; a
# selectors.EpollSelector over pipes and sockets; a server in a forked
# child reached from its parent.
import asyncio, os, selectors, signal, socket, sys

async def handle(reader, writer):
    while data := await reader.readline():
        writer.write(data.upper())
        await writer.drain()
    writer.close()

async def client(port, i):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    out = []
    for k in range(3):
        w.write(b"client %d line %d\n" % (i, k))
        await w.drain()
        out.append((await r.readline()).decode().strip())
    w.close()
    await w.wait_closed()
    return out

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    results = await asyncio.gather(*(client(port, i) for i in range(8)))
    for r in results:
        print(r)
    server.close()
    await server.wait_closed()

    order = []
    loop = asyncio.get_running_loop()
    for d in (0.03, 0.01, 0.02):
        loop.call_later(d, order.append, d)
    await asyncio.sleep(0.06)
    print("timers fired in order", order)

    got = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, got.set)
    os.kill(os.getpid(), signal.SIGUSR1)
    await asyncio.wait_for(got.wait(), 5)
    print("signal through the loop")

    try:
        await asyncio.wait_for(asyncio.sleep(10), 0.05)
    except asyncio.TimeoutError:
        print("wait_for timed out")

asyncio.run(main())

sel = selectors.EpollSelector()
r, w = os.pipe()
a, b = socket.socketpair()
sel.register(r, selectors.EVENT_READ, "pipe")
sel.register(a, selectors.EVENT_READ, "socket")
print("idle", sel.select(0))
os.write(w, b"x")
b.send(b"y")
print("ready", sorted(k.data for k, _ in sel.select(1)))
sel.modify(a, selectors.EVENT_WRITE, "socket out")
os.read(r, 1)
print("writable", [(k.data, ev) for k, ev in sel.select(1)])
sel.close()

# A server in a child: it listens, the parent connects and talks.
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen()
port = ls.getsockname()[1]
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    async def child():
        srv = await asyncio.start_server(handle, sock=ls)
        async with srv:
            await asyncio.sleep(0.5)
    asyncio.run(child())
    os._exit(3)
ls.close()
async def parent():
    return await client(port, 99)
print("from the child's server", asyncio.run(parent()))
_, st = os.waitpid(pid, 0)
print("child status", os.waitstatus_to_exitcode(st))
