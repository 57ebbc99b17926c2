package tests

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// freePort finds a loopback port nobody listens on.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs cmd and waits until it accepts on port.
func startServer(t *testing.T, cmd *exec.Cmd, port int) {
	t.Helper()
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%v: nothing listens on port %d after 2s", cmd.Args, port)
}

type response struct {
	code int
	body []byte
}

func get(c *http.Client, url string) (response, error) {
	r, err := c.Get(url)
	if err != nil {
		return response{}, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return response{r.StatusCode, b}, err
}

// TestBusyboxHttpd: busybox httpd, a VM forked per connection, serves baked
// files to concurrent clients; every response must be what the same httpd
// serves natively from the same files.
func TestBusyboxHttpd(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed: %v", err)
	}
	www := filepath.Join(t.TempDir(), "www")
	must(t, os.MkdirAll(filepath.Join(www, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(www, "index.html"), []byte("<h1>hello from ukfork</h1>\n"), 0o644))
	big := make([]byte, 300_000)
	rand.New(rand.NewSource(1)).Read(big)
	must(t, os.WriteFile(filepath.Join(www, "sub", "big.bin"), big, 0o644))
	img := bake(t, bb, "--applets", "--file", www+":/www")

	ukPort, natPort := freePort(t), freePort(t)
	uk := exec.Command(ukforkBin, "run", img, "httpd", "-f", "-p", fmt.Sprintf("127.0.0.1:%d", ukPort), "-h", "/www")
	nat := exec.Command(bb, "httpd", "-f", "-p", fmt.Sprintf("127.0.0.1:%d", natPort), "-h", www)
	startServer(t, uk, ukPort)
	startServer(t, nat, natPort)

	paths := []string{"/index.html", "/sub/big.bin", "/missing", "/sub/", "/../etc/passwd"}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	want := map[string]response{}
	for _, p := range paths {
		r, err := get(client, fmt.Sprintf("http://127.0.0.1:%d%s", natPort, p))
		must(t, err)
		want[p] = r
	}
	const clients, each = 16, 15
	var wg sync.WaitGroup
	errs := make(chan error, clients*each)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				p := paths[(c+i)%len(paths)]
				r, err := get(client, fmt.Sprintf("http://127.0.0.1:%d%s", ukPort, p))
				switch {
				case err != nil:
					errs <- fmt.Errorf("%s: %v", p, err)
				case r.code != want[p].code || !bytes.Equal(r.body, want[p].body):
					errs <- fmt.Errorf("%s: status %d, %d bytes; native %d, %d bytes", p, r.code, len(r.body), want[p].code, len(want[p].body))
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// SIGTERM reaches httpd, whose default action ends it: status 143.
	uk.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- uk.Wait() }()
	select {
	case <-done:
		if got := uk.ProcessState.ExitCode(); got != 143 {
			t.Errorf("exit status %d after SIGTERM, want 143", got)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("ukfork run did not end after SIGTERM")
	}
}
