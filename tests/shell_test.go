package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBusyboxShell runs busybox sh scripts (pipelines, subshells, command
// substitution, && and ||, background jobs and wait, trap and kill) under
// ukfork, every process its own VM, and natively with the same applets.
func TestBusyboxShell(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed (apt-get install busybox-static): %v", err)
	}
	// Natively the shell finds the same busybox applets through PATH.
	bin := filepath.Join(t.TempDir(), "bin")
	must(t, os.MkdirAll(bin, 0o755))
	out, err := exec.Command(bb, "--list").Output()
	must(t, err)
	for _, a := range strings.Fields(string(out)) {
		must(t, os.Symlink(bb, filepath.Join(bin, a)))
	}
	img := bake(t, bb, "--applets")
	scripts := map[string]string{
		"pipeline":     `echo hello world | tr a-z A-Z | wc -c; seq 1 50 | sort -rn | head -3`,
		"substitution": `x=$(echo sub | tr a-z A-Z); y=$(seq 3 | wc -l); echo "$x $y"; echo $(echo nested $(echo deep))`,
		"status":       `(exit 3); echo "st $?"; true && echo and; false || echo or; false && echo never; ! false; echo "not $?"`,
		"subshell":     `a=1; (a=2; echo "in $a"); echo "out $a"; (cd /bin && pwd); pwd`,
		"background":   `sleep 0.2 & p=$!; echo started; wait $p; echo "waited $?"; (exit 7) & wait $!; echo "bg status $?"`,
		"trap":         `trap "echo caught USR1" USR1; kill -USR1 $$; echo after; trap "echo bye" EXIT; echo end`,
		"kill":         `sleep 10 & p=$!; kill $p; wait $p; echo "killed: $?"; sleep 10 & kill -9 $!; wait $!; echo "killed -9: $?"`,
		"loop":         `i=0; while [ $i -lt 20 ]; do i=$((i+1)); echo $i; done | tail -2; for w in a b c; do echo $w; done | sort -r | tr -d '\n'; echo`,
		"functions":    `f() { echo "f got $#: $*"; return 4; }; f a b c; echo "f returned $?"; g() { f "$@" | wc -w; }; g x y`,
		"redirect":     `echo one > /dev/null; echo two 2>&1 | cat; ls /nonexistent 2>/dev/null || echo "ls failed $?"; cat < /dev/null; echo three`,
		"exit":         `echo before; exit 42`,
		"many":         `for i in $(seq 1 30); do (echo $i) & done; wait; echo all done`,
	}
	for name, script := range scripts {
		t.Run(name, func(t *testing.T) {
			got := ukfork(t, img, "sh", "-c", script)
			cmd := exec.Command(bb, "sh", "-c", script)
			cmd.Args[0] = "busybox"
			cmd.Env = []string{"PATH=" + bin, "HOME=/"}
			cmd.Dir = "/"
			want := runCmd(t, cmd)
			if name == "many" {
				// Background jobs finish in any order: compare sorted lines.
				got.stdout, want.stdout = sortLines(got.stdout), sortLines(want.stdout)
			}
			same(t, got, want)
		})
	}
}

func sortLines(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	sortStrings(l)
	return strings.Join(l, "\n")
}
