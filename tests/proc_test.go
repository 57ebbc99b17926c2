package tests

import (
	"os/exec"
	"testing"
)

// TestProc reads /proc and /dev as programs do (busybox's applets, baked
// without --applets, so that it runs them through /proc/self/exe), beside
// the same busybox natively.
func TestProc(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed (apt-get install busybox-static): %v", err)
	}
	script, at := testdata("proc.sh")
	img := debianImage(t, bb, script+":"+at)
	same(t, ukfork(t, img, "sh", at), native(t, "", bb, "sh", script))
}
