package tests

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Debian's PostgreSQL 15 beside the same binaries natively: initdb into a
// volume as the postgres user, the postmaster and its helpers each a VM,
// psql sessions, pgbench's load and 8 concurrent clients, a clean
// shutdown, and then the native postgres on the data directory ukfork
// wrote, which must return the same rows.

const pgBin = "/usr/lib/postgresql/15/bin"

// pgSession is what psql runs against each server: its output must match.
const pgSession = `
create table t(id int primary key, v text);
insert into t select g, md5(g::text) from generate_series(1, 20000) g;
update t set v = upper(v) where id % 7 = 0;
delete from t where id % 11 = 0;
select count(*), min(v), max(v), sum(id) from t;
select v from t where id = 4242;
begin; insert into t values (0, 'rolled back'); rollback;
select count(*) from t where id = 0;
create index on t(v);
select id from t where v = upper(md5('49')) ;
select current_user, current_setting('server_version_num');
`

// pgInvariants: TPC-B's balances add up, and every transaction is there.
const pgInvariants = `select (select sum(abalance) from pgbench_accounts) = (select sum(delta) from pgbench_history),
 (select sum(bbalance) from pgbench_branches) = (select sum(delta) from pgbench_history),
 (select sum(tbalance) from pgbench_tellers) = (select sum(delta) from pgbench_history),
 (select count(*) from pgbench_history)`

// pgContents names every row that pgbench changed.
const pgContents = `select count(*), md5(string_agg(aid || ':' || abalance, ',' order by aid)) from pgbench_accounts;
select md5(string_agg(tid || ':' || tbalance, ',' order by tid)) from pgbench_tellers;
select count(*), sum(delta) from pgbench_history;
select count(*), sum(id) from t;`

type pgServer struct {
	cmd  *exec.Cmd
	port int
}

func pgUser(t *testing.T) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("no postgres user: .ci/run installs postgresql-15, which makes it (%v)", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// asPostgres runs a native command as the postgres user.
func asPostgres(t *testing.T, name string, args ...string) *exec.Cmd {
	uid, gid := pgUser(t)
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C")
	return cmd
}

// pgDir is a directory the postgres user owns, reachable by it.
func pgDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ukfork-pg")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(d) })
	uid, gid := pgUser(t)
	must(t, os.Chmod(d, 0o755))
	must(t, os.Chown(d, uid, gid))
	return d
}

func pgServerArgs(dataDir string, port int) []string {
	return []string{"-D", dataDir, "-k", "/tmp", "-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "jit=off", "-c", "max_connections=20"}
}

// psql runs sql on the server at port with the native psql.
func psql(t *testing.T, port int, sql string) string {
	t.Helper()
	cmd := exec.Command(pgBin+"/psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
		"-p", strconv.Itoa(port), "-U", "postgres", "-d", "postgres", "-f", "-")
	cmd.Stdin = strings.NewReader(sql) // statement by statement, as typed
	r := runCmd(t, cmd)
	if r.status != 0 {
		t.Fatalf("psql on port %d: %s", port, r)
	}
	return r.stdout
}

// pgbench runs pgbench with args against port: its report.
func pgbench(t *testing.T, port int, args ...string) string {
	t.Helper()
	r := runCmd(t, exec.Command(pgBin+"/pgbench", append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "postgres"}, append(args, "postgres")...)...))
	if r.status != 0 {
		t.Fatalf("pgbench %v on port %d: %s", args, port, r)
	}
	return r.stdout
}

// pgLoad is what a user does with a new server; what it saw.
func pgLoad(t *testing.T, port int) (session, bench, invariants string) {
	t.Helper()
	session = psql(t, port, pgSession)
	pgbench(t, port, "-i", "-s", "5", "-q")
	out := pgbench(t, port, "-c", "8", "-j", "2", "-t", "40")
	for _, want := range []string{"number of transactions actually processed: 320/320", "number of failed transactions: 0 "} {
		if !strings.Contains(out, want) {
			t.Errorf("pgbench on port %d: no %q in\n%s", port, want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "tps") || strings.HasPrefix(l, "number of transactions") {
			bench += l + "\n"
		}
	}
	return session, bench, psql(t, port, pgInvariants)
}

func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		t.Fatalf("%v did not end %v after its shutdown signal", cmd.Args, d)
		return nil
	}
}

func TestDebianPostgres(t *testing.T) {
	for _, f := range []string{pgBin + "/postgres", pgBin + "/initdb", pgBin + "/psql", pgBin + "/pgbench"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s is missing: .ci/run installs postgresql-15 (%v)", f, err)
		}
	}
	img := bake(t, "/bin/dash", "--mem", "1G",
		"--file", pgBin+":"+pgBin,
		"--file", "/usr/lib/postgresql/15/lib:/usr/lib/postgresql/15/lib",
		"--file", "/usr/share/postgresql/15:/usr/share/postgresql/15",
		"--file", "/usr/share/zoneinfo:/usr/share/zoneinfo",
		"--file", "/etc/passwd:/etc/passwd", "--file", "/etc/group:/etc/group",
		"--file", "/bin/dash:/bin/sh", "--file", "/usr/bin/locale:/usr/bin/locale")

	// initdb, natively and under ukfork into a volume.
	vol, ndir := pgDir(t), pgDir(t)
	ur := runCmd(t, exec.Command(ukforkBin, "run", "--user", "postgres", "--env", "LANG=C", "--volume", vol+":/data",
		"--entrypoint", pgBin+"/initdb", img, "-D", "/data/db", "--auth=trust"))
	nr := runCmd(t, asPostgres(t, pgBin+"/initdb", "-D", filepath.Join(ndir, "db"), "--auth=trust"))
	for _, r := range []result{ur, nr} {
		if r.status != 0 || !strings.Contains(r.stdout, "Success.") {
			t.Fatalf("initdb: %s", r)
		}
	}
	if _, err := os.Stat(filepath.Join(vol, "db", "PG_VERSION")); err != nil {
		t.Fatalf("initdb under ukfork left no cluster in the volume: %v", err)
	}

	up, np := freePort(t), freePort(t)
	uargs := append([]string{"run", "--user", "postgres", "--env", "LANG=C", "--volume", vol + ":/data",
		"--entrypoint", pgBin + "/postgres", img}, pgServerArgs("/data/db", up)...)
	ucmd := exec.Command(ukforkBin, uargs...)
	var ulog strings.Builder
	ucmd.Stdout, ucmd.Stderr = &ulog, &ulog
	startPostgres(t, ucmd, up)
	ncmd := asPostgres(t, pgBin+"/postgres", pgServerArgs(filepath.Join(ndir, "db"), np)...)
	startPostgres(t, ncmd, np)

	us, ub, ui := pgLoad(t, up)
	ns, nb, ni := pgLoad(t, np)
	if us != ns {
		t.Errorf("psql session under ukfork:\n%s\nnatively:\n%s", us, ns)
	}
	if ui != ni || !strings.HasPrefix(ui, "t|t|t|320") {
		t.Errorf("pgbench's invariants under ukfork %q, natively %q: want t|t|t|320", ui, ni)
	}
	t.Logf("pgbench -c 8 -t 40, ukfork:\n%snatively:\n%s", ub, nb)
	if n := len(psRows(t, ucmd.Process.Pid)); n < 5 {
		t.Errorf("ukfork ps lists %d processes of the server, want the postmaster and its helpers", n)
	}
	contents := psql(t, up, pgContents)

	// A clean shutdown (SIGINT to ukfork: the postmaster's fast shutdown),
	// then the native postgres on what ukfork left.
	must(t, ucmd.Process.Signal(syscall.SIGINT))
	if err := waitExit(t, ucmd, 60*time.Second); err != nil {
		t.Errorf("ukfork's postgres after SIGINT: %v\n%s", err, ulog.String())
	}
	if !strings.Contains(ulog.String(), "database system is shut down") {
		t.Errorf("no clean shutdown in the log:\n%s", ulog.String())
	}
	ctl := runCmd(t, exec.Command(pgBin+"/pg_controldata", filepath.Join(vol, "db")))
	if !strings.Contains(ctl.stdout, "Database cluster state:               shut down") {
		t.Errorf("pg_controldata of ukfork's cluster: %s", ctl)
	}
	ncmd.Process.Signal(syscall.SIGINT)
	waitExit(t, ncmd, 60*time.Second)
	rp := freePort(t)
	rcmd := asPostgres(t, pgBin+"/postgres", pgServerArgs(filepath.Join(vol, "db"), rp)...)
	startPostgres(t, rcmd, rp)
	if got := psql(t, rp, pgContents); got != contents {
		t.Errorf("the native postgres on ukfork's data reads\n%s\nukfork's read\n%s", got, contents)
	}
	rcmd.Process.Signal(syscall.SIGINT)
	waitExit(t, rcmd, 60*time.Second)
}

// startPostgres runs cmd and waits until the server accepts a query: a
// cluster's start (recovery, the helpers) takes longer than a web server's.
func startPostgres(t *testing.T, cmd *exec.Cmd, port int) {
	t.Helper()
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 300; i++ {
		r := runCmd(t, exec.Command(pgBin+"/pg_isready", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(port)))
		if r.status == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%v: no server on port %d after 30s", cmd.Args, port)
}
