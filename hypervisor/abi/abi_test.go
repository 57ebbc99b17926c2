package abi

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestGeneratedMatchesHeader regenerates the Go view of abi.h and fails when
// the checked-in file differs: the header stays the only hand-kept copy.
func TestGeneratedMatchesHeader(t *testing.T) {
	objdir := t.TempDir()
	cmd := exec.Command("go", "tool", "cgo", "-objdir", objdir, "-godefs", "types_abi.go")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cgo -godefs: %v\n%s", err, stderr.String())
	}
	gofmt := exec.Command("gofmt")
	gofmt.Stdin = bytes.NewReader(out)
	want, err := gofmt.Output()
	if err != nil {
		t.Fatalf("gofmt: %v", err)
	}
	// The command line is echoed into the output; -objdir is ours only.
	want = bytes.Replace(want, []byte("cgo -objdir "+objdir+" -godefs"), []byte("cgo -godefs"), 1)
	got, err := os.ReadFile("zabi_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("zabi_generated.go is stale: guest/include/ukfork/abi.h changed; run `go generate ./hypervisor/abi`")
	}
}
