# Debian's sqlite (through python3's sqlite3 module) on a database file in
# a directory given as argv[1]: processes writing at once, kept apart by
# sqlite's fcntl locks, a reader meanwhile, and the result checked; first
# with a rollback journal, then in WAL mode, where every connection maps
# the -shm index file shared and they meet there.
import os, sqlite3, sys, time

def run(mode):
    db = os.path.join(sys.argv[1], mode + ".db")
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.unlink(f)
    con = sqlite3.connect(db)
    print(mode, "journal", con.execute("pragma journal_mode=" + mode).fetchone()[0])
    con.execute("create table t(writer integer, n integer, unique(writer, n))")
    con.commit()
    con.close()

    kids = []
    for w in range(4):
        pid = os.fork()
        if pid == 0:
            c = sqlite3.connect(db, timeout=30)
            for n in range(25):
                # BEGIN IMMEDIATE takes the write lock at once: the others wait.
                c.execute("begin immediate")
                c.execute("insert into t values(?, ?)", (w, n))
                c.execute("commit")
            c.close()
            os._exit(0)
        kids.append(pid)

    # A reader meanwhile: it sees whole transactions only, never more rows
    # than were written.
    r = sqlite3.connect(db, timeout=30)
    counts = [r.execute("select count(*) from t").fetchone()[0] for _ in range(20)]
    print(mode, "reader saw counts in order, within 0..100:", counts == sorted(counts) and 0 <= counts[0] and counts[-1] <= 100)
    statuses = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids]
    print(mode, "writers", statuses)
    print(mode, "rows", r.execute("select count(*) from t").fetchone()[0])
    print(mode, "per writer", r.execute("select writer, count(*), min(n), max(n) from t group by writer order by writer").fetchall())
    print(mode, "integrity", r.execute("pragma integrity_check").fetchone()[0])
    if mode == "wal":
        print(mode, "checkpoint", r.execute("pragma wal_checkpoint(truncate)").fetchone())
    r.close()

run("delete")
run("wal")
