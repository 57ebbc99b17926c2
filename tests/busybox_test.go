package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBusybox runs Debian's busybox-static applets on baked files and
// compares each with the same applet run natively on the same files.
func TestBusybox(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed (apt-get install busybox-static): %v", err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	must(t, os.MkdirAll(filepath.Join(data, "sub"), 0o755))
	lines := []string{"pear", "apple", "fig", "banana", "cherry", "apple", "date 10", "date 9"}
	must(t, os.WriteFile(filepath.Join(data, "fruit.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	var big strings.Builder
	for i := 0; i < 20000; i++ {
		big.WriteString(strings.Repeat(string(rune('a'+i%26)), i%70))
		big.WriteString("\n")
	}
	must(t, os.WriteFile(filepath.Join(data, "sub", "big.txt"), []byte(big.String()), 0o600))
	must(t, os.Symlink("fruit.txt", filepath.Join(data, "link")))
	img := bake(t, bb, "--file", data+":/data")

	cases := [][]string{
		{"echo", "hello", "from", "busybox"},
		{"id", "-u"}, // the user who runs ukfork, not always 0
		{"id", "-g"},
		{"cat", "data/fruit.txt"},
		{"cat", "data/link"},
		{"wc", "data/fruit.txt", "data/sub/big.txt"},
		{"sha256sum", "data/fruit.txt", "data/sub/big.txt"},
		{"md5sum", "data/sub/big.txt"},
		{"sort", "data/fruit.txt"},
		{"sort", "-r", "-u", "data/fruit.txt"},
		{"ls", "data"},
		{"ls", "-a", "-R", "data"},
		{"ls", "-ln", "data/sub"},
		{"head", "-n", "3", "data/sub/big.txt"},
		{"tail", "-n", "2", "data/sub/big.txt"},
		{"grep", "-c", "zzz", "data/sub/big.txt"},
		{"cat", "data/missing"}, // status 1 and a message on stderr
		{"true"},
		{"false"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			// Natively busybox runs from dir, where data/ is; the guest
			// starts in /, where the image has data/.
			same(t, ukfork(t, img, args...), native(t, dir, bb, args...))
		})
	}
}
