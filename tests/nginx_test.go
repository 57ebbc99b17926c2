package tests

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Debian's nginx (nginx-light), master and 4 workers in the foreground,
// beside the same binary natively: static files, a limit_req zone the
// workers share, the access log in a volume, a killed worker respawned,
// reload (SIGHUP) and a graceful quit (SIGQUIT).

const nginxConf = `daemon off;
master_process on;
worker_processes 4;
user root;
error_log stderr notice;
pid /tmp/nginx.pid;
events { worker_connections 256; }
http {
    access_log LOGDIR/access.log;
    client_body_temp_path /tmp/body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;
    server {
        listen 127.0.0.1:PORT;
        root ROOT;
        location /limited { limit_req zone=one; alias ROOT/index.html; }
    }
}
`

// nginxServer is one nginx, run natively or under ukfork.
type nginxServer struct {
	cmd     *exec.Cmd
	port    int
	logDir  string
	signal  func(sig syscall.Signal)
	kill    func(pid int) error // SIGKILL to one of its processes
	workers func() []int        // the master's children
}

type nginxResult struct {
	files                  string // what serving the files gave
	limited                string // how many of the concurrent limited requests got each status
	workers                int
	respawned, afterReload bool
	logLines, status       int
}

func nginxFiles(t *testing.T) (dir string, names []string) {
	dir = t.TempDir()
	r := rand.New(rand.NewSource(1))
	for i, size := range []int{0, 1, 4095, 65536, 1 << 20, 3<<20 + 7} {
		b := make([]byte, size)
		r.Read(b)
		name := fmt.Sprintf("f%d.bin", i)
		must(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
		names = append(names, name)
	}
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello from nginx\n"), 0o644))
	return dir, append(names, "index.html", "missing.html")
}

func nginxConfig(t *testing.T, port int, root, logDir string) string {
	c := strings.NewReplacer("PORT", strconv.Itoa(port), "ROOT", root, "LOGDIR", logDir).Replace(nginxConf)
	p := filepath.Join(t.TempDir(), "nginx.conf")
	must(t, os.WriteFile(p, []byte(c), 0o644))
	return p
}

// exercise drives s as a user would and says what it saw.
func (s *nginxServer) exercise(t *testing.T, root string, names []string) nginxResult {
	t.Helper()
	startServer(t, s.cmd, s.port)
	var res nginxResult
	c := &http.Client{Timeout: 20 * time.Second}
	base := fmt.Sprintf("http://127.0.0.1:%d/", s.port)
	var sb strings.Builder
	for _, n := range names {
		r, err := get(c, base+n)
		if err != nil {
			t.Fatalf("GET %s: %v", n, err)
		}
		want, _ := os.ReadFile(filepath.Join(root, n))
		fmt.Fprintf(&sb, "%s %d same=%v; ", n, r.code, r.code != 200 || bytes.Equal(r.body, want))
	}
	res.files = sb.String()
	// Concurrent requests, on connections of their own: the workers
	// share the zone, so one gets through in all.
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			r, err := get(cl, base+"limited")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				codes[-1]++
				return
			}
			codes[r.code]++
		}()
	}
	wg.Wait()
	var keys []int
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		res.limited += fmt.Sprintf("%d:%d ", k, codes[k])
	}
	ws := waitWorkers(s, 4)
	res.workers = len(ws)
	// A killed worker is replaced.
	if len(ws) > 0 {
		must(t, s.kill(ws[0]))
		now := waitWorkers(s, 4, ws[0])
		res.respawned = len(now) == 4 && !contains(now, ws[0])
	}
	s.signal(syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	r, err := get(c, base+"index.html")
	res.afterReload = err == nil && r.code == 200 && len(waitWorkers(s, 4)) == 4
	s.signal(syscall.SIGQUIT)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			res.status = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%v: still running 20s after SIGQUIT", s.cmd.Args)
	}
	b, _ := os.ReadFile(filepath.Join(s.logDir, "access.log"))
	res.logLines = bytes.Count(b, []byte("\n"))
	return res
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// waitWorkers waits (a while) until the master has n children, none of
// them gone.
func waitWorkers(s *nginxServer, n int, gone ...int) []int {
	var ws []int
	for i := 0; i < 100; i++ {
		if ws = s.workers(); len(ws) == n && (len(gone) == 0 || !contains(ws, gone[0])) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ws
}

func TestDebianNginx(t *testing.T) {
	root, names := nginxFiles(t)

	// Natively.
	nlog := t.TempDir()
	nport := freePort(t)
	ncmd := exec.Command("/usr/sbin/nginx", "-c", nginxConfig(t, nport, root, nlog))
	native := &nginxServer{cmd: ncmd, port: nport, logDir: nlog,
		signal:  func(sig syscall.Signal) { ncmd.Process.Signal(sig) },
		kill:    func(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) },
		workers: func() []int { return procChildren(ncmd.Process.Pid) }}

	// Under ukfork: the files baked at /srv/html, the log in a volume.
	ulog := t.TempDir()
	uport := freePort(t)
	img := bake(t, "/usr/sbin/nginx", "--file", nginxConfig(t, uport, "/srv/html", "/var/log/nginx")+":/etc/nginx/nginx.conf",
		"--file", root+":/srv/html", "--file", "/etc/passwd:/etc/passwd", "--file", "/etc/group:/etc/group")
	ucmd := exec.Command(ukforkBin, "run", "--volume", ulog+":/var/log/nginx", img)
	var master int
	uk := &nginxServer{cmd: ucmd, port: uport, logDir: ulog}
	uk.workers = func() []int {
		rows := psRows(t, ucmd.Process.Pid)
		var ws []int
		for _, r := range rows {
			if r.ppid == 0 {
				master = r.pid
			}
		}
		for _, r := range rows {
			if r.ppid == master && master != 0 {
				ws = append(ws, r.pid)
			}
		}
		return ws
	}
	uk.signal = func(sig syscall.Signal) {
		uk.workers()
		runCmd(t, exec.Command(ukforkBin, "kill", "-s", strconv.Itoa(int(sig)), strconv.Itoa(master)))
	}
	uk.kill = func(pid int) error {
		r := runCmd(t, exec.Command(ukforkBin, "kill", "-s", "KILL", strconv.Itoa(pid)))
		if r.status != 0 {
			return fmt.Errorf("ukfork kill: %s", r)
		}
		return nil
	}
	want := native.exercise(t, root, names)
	got := uk.exercise(t, root, names)
	if got != want {
		t.Errorf("nginx under ukfork and natively differ\n--- ukfork: %+v\n--- native: %+v", got, want)
	}
	if want.limited != "200:1 503:15 " || !want.respawned || !want.afterReload {
		t.Errorf("natively nginx did not do what the test expects: %+v", want)
	}
}

// procChildren lists a native process's children.
func procChildren(pid int) []int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

type psRow struct{ pid, ppid int }

// psRows is what `ukfork ps` lists of the run whose ukfork has host pid run.
func psRows(t *testing.T, run int) []psRow {
	out, err := exec.Command(ukforkBin, "ps").Output()
	if err != nil {
		return nil
	}
	var rows []psRow
	for _, line := range strings.Split(string(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != strconv.Itoa(run) {
			continue
		}
		pid, _ := strconv.Atoi(f[1])
		ppid, _ := strconv.Atoi(f[2])
		rows = append(rows, psRow{pid, ppid})
	}
	return rows
}
