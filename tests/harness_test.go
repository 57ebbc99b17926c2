// Package tests runs real static programs under ukfork and natively, and
// compares what they print and how they exit. It needs /dev/kvm, bin/ukfork
// and tests/apps/build (all made by `make test`).
package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ukfork/ukfork/hypervisor/kvm"
)

var (
	ukforkBin string
	appDir    string
)

func TestMain(m *testing.M) {
	root, _ := filepath.Abs("..")
	ukforkBin = filepath.Join(root, "bin", "ukfork")
	if b := os.Getenv("UKFORK_BIN"); b != "" {
		ukforkBin, _ = filepath.Abs(b) // a race-built binary (make test)
	}
	appDir = filepath.Join(root, "tests", "apps", "build")
	if err := kvm.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: these tests run programs in KVM virtual machines and cannot run here: %v\n", err)
		os.Exit(1)
	}
	for _, p := range []string{ukforkBin, filepath.Join(appDir, "musl", "hello")} {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: %s is missing: run `make test`, which builds it first\n", p)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// result is what a program did.
type result struct {
	stdout, stderr string
	status         int
}

func (r result) String() string {
	return fmt.Sprintf("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
}

func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if cmd.Stdin == nil {
		cmd.Stdin = strings.NewReader("")
	}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%v: still running after 60s", cmd.Args)
	}
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.status = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.status = 128 + int(ws.Signal()) // as a shell reports it
		}
	case err != nil:
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return r
}

// bake makes an image of prog with extra bake flags.
func bake(t *testing.T, prog string, flags ...string) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), filepath.Base(prog)+".img")
	args := append([]string{"bake", "-o", img}, flags...)
	args = append(args, prog)
	r := runCmd(t, exec.Command(ukforkBin, args...))
	if r.status != 0 {
		t.Fatalf("bake %s: %s", prog, r)
	}
	return img
}

// ukfork runs `ukfork run [runFlags] img args...`.
func ukfork(t *testing.T, img string, args ...string) result {
	t.Helper()
	return runCmd(t, exec.Command(ukforkBin, append([]string{"run", img}, args...)...))
}

// native runs prog with argv[0] = its base name and the environment an
// image gets by default, from dir (or the current directory).
func native(t *testing.T, dir, prog string, args ...string) result {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Args[0] = filepath.Base(prog)
	cmd.Env = []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/"}
	cmd.Dir = dir
	return runCmd(t, cmd)
}

// same fails unless ukfork and native agree on stdout and status.
func same(t *testing.T, got, want result) {
	t.Helper()
	if got.status != want.status || got.stdout != want.stdout {
		t.Errorf("ukfork and native differ\n--- ukfork: %s\n--- native: %s", got, want)
	}
}

func app(libc, name string) string { return filepath.Join(appDir, libc, name) }

var libcs = []string{"musl", "glibc", "dyn"} // dyn: glibc, dynamic PIE

func sortStrings(s []string) { sort.Strings(s) }
