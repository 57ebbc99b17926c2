# Debian's sqlite (through python3's sqlite3 module) on a database file in
# a directory given as argv[1]: processes writing at once, kept apart by
# sqlite's fcntl locks, a reader meanwhile, and the result checked.
import os, sqlite3, sys, time

db = os.path.join(sys.argv[1], "test.db")
if os.path.exists(db):
    os.unlink(db)
con = sqlite3.connect(db)
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
print("reader saw counts in order, within 0..100:", counts == sorted(counts) and 0 <= counts[0] and counts[-1] <= 100)
statuses = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids]
print("writers", statuses)
print("rows", r.execute("select count(*) from t").fetchone()[0])
print("per writer", r.execute("select writer, count(*), min(n), max(n) from t group by writer order by writer").fetchall())
print("integrity", r.execute("pragma integrity_check").fetchone()[0])
print("journal", r.execute("pragma journal_mode").fetchone()[0])
r.close()
