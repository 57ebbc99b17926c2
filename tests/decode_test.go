package tests

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRewriteDecoder checks the syscall rewriter's instruction decoder
// (guest/rewrite/decode.c) against objdump on real static binaries: every
// instruction it accepts must have objdump's length and kind of control
// flow. A wrong length would make the rewriter copy the wrong bytes.
func TestRewriteDecoder(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "decode")
	out, err := exec.Command("gcc", "-O1", "-Wall", "-Werror", "-I../guest/rewrite", "-o", bin,
		"testdata/decode_harness.c", "../guest/rewrite/decode.c").CombinedOutput()
	if err != nil {
		t.Fatalf("building the decoder harness: %v\n%s", err, out)
	}
	progs := []string{app("musl", "sites"), app("glibc", "sites"), app("glibc", "prefork")}
	if bb, err := exec.LookPath("busybox"); err == nil {
		progs = append(progs, bb)
	}
	for _, prog := range progs {
		t.Run(filepath.Base(filepath.Dir(prog))+"/"+filepath.Base(prog), func(t *testing.T) {
			insns := objdump(t, prog)
			var in bytes.Buffer
			for i := range insns {
				b := append([]byte(nil), insns[i].bytes...)
				for j := i + 1; j < len(insns) && len(b) < 16; j++ {
					b = append(b, insns[j].bytes...)
				}
				fmt.Fprintln(&in, hex.EncodeToString(b))
			}
			cmd := exec.Command(bin)
			cmd.Stdin = &in
			res, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(bytes.NewReader(res))
			accepted, bad := 0, 0
			for i := 0; sc.Scan(); i++ {
				var n, kind int
				fmt.Sscan(sc.Text(), &n, &kind)
				if n == 0 {
					continue
				}
				accepted++
				want := insns[i]
				if n != len(want.bytes) || kind != want.kind() {
					bad++
					if bad <= 10 {
						t.Errorf("%s: %x %s: decoded length %d kind %d, objdump says %d kind %d",
							want.addr, want.bytes, want.text, n, kind, len(want.bytes), want.kind())
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d accepted instructions decoded wrong", bad, accepted)
			}
			// The whitelist must cover the bulk of ordinary code.
			if accepted*3 < len(insns) {
				t.Errorf("decoder accepted only %d of %d instructions", accepted, len(insns))
			}
		})
	}
}

type insn struct {
	addr, text string
	bytes      []byte
}

// kind is the decoder's UKF_I_* for the instruction's mnemonic.
func (i insn) kind() int {
	m := strings.Fields(i.text)
	if len(m) == 0 {
		return 1
	}
	switch op := m[0]; {
	case op == "ret":
		return 5
	case op == "call":
		return 4
	case op == "jmp":
		return 3
	case strings.HasPrefix(op, "j"):
		return 2
	}
	return 1
}

// objdump lists the instructions of prog's executable sections.
func objdump(t *testing.T, prog string) []insn {
	t.Helper()
	raw, err := exec.Command("objdump", "-d", "-w", prog).Output()
	if err != nil {
		t.Fatalf("objdump %s: %v", prog, err)
	}
	var insns []insn
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) < 3 || !strings.HasSuffix(strings.TrimSpace(f[0]), ":") {
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(f[1]), " ", ""))
		if err != nil || len(b) == 0 || strings.Contains(f[2], "(bad)") {
			continue
		}
		insns = append(insns, insn{addr: strings.TrimSuffix(strings.TrimSpace(f[0]), ":"), text: f[2], bytes: b})
	}
	if len(insns) < 100 {
		t.Fatalf("objdump %s: only %d instructions", prog, len(insns))
	}
	return insns
}
