package kvm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// offsetsC prints, from the kernel's uapi header, the struct kvm_run layout
// this package hard-codes.
const offsetsC = `#include <stddef.h>
#include <stdio.h>
#include <linux/kvm.h>
#define P(name, v) printf("%s %zu\n", name, (size_t)(v))
#define O(m) P(#m, offsetof(struct kvm_run, m))
int main(void) {
	P("sizeof", sizeof(struct kvm_run));
	P("sizeof_immediate_exit", sizeof(((struct kvm_run *)0)->immediate_exit));
	P("sizeof_exit_reason", sizeof(((struct kvm_run *)0)->exit_reason));
	P("sizeof_kvm_valid_regs", sizeof(((struct kvm_run *)0)->kvm_valid_regs));
	P("sizeof_kvm_dirty_regs", sizeof(((struct kvm_run *)0)->kvm_dirty_regs));
	O(immediate_exit); O(exit_reason); O(io); O(kvm_valid_regs); O(kvm_dirty_regs); O(s);
	O(io.direction); O(io.size); O(io.port); O(io.count); O(io.data_offset);
	O(internal.suberror); O(internal.ndata); O(fail_entry.hardware_entry_failure_reason);
	P("KVM_EXIT_IO", KVM_EXIT_IO); P("KVM_EXIT_INTERNAL_ERROR", KVM_EXIT_INTERNAL_ERROR);
	P("KVM_EXIT_FAIL_ENTRY", KVM_EXIT_FAIL_ENTRY); P("KVM_EXIT_IO_OUT", KVM_EXIT_IO_OUT);
	return 0;
}
`

var cLayout = sync.OnceValues(func() (map[string]uint64, error) {
	dir, err := os.MkdirTemp("", "kvmrun")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src, bin := filepath.Join(dir, "off.c"), filepath.Join(dir, "off")
	if err := os.WriteFile(src, []byte(offsetsC), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command("gcc", "-o", bin, src).CombinedOutput(); err != nil {
		return nil, &exec.Error{Name: "gcc " + string(bytes.TrimSpace(out)), Err: err}
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		return nil, err
	}
	m := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, v, _ := strings.Cut(sc.Text(), " ")
		if m[name], err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, err
		}
	}
	return m, nil
})

// layout returns the C layout, failing the test if it cannot be had.
func layout(t *testing.T) map[string]uint64 {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is needed to check struct kvm_run against <linux/kvm.h>: %v (install gcc and the kernel headers, e.g. apt-get install gcc linux-libc-dev)", err)
	}
	m, err := cLayout()
	if err != nil {
		t.Fatalf("compiling the kvm_run layout probe: %v", err)
	}
	return m
}

func TestRunLayout(t *testing.T) {
	c := layout(t)
	tests := []struct {
		name string
		got  uint64 // this package's value
		c    string // the C expression's name
	}{
		{"sizeofRun", sizeofRun, "sizeof"},
		{"runOffImmediateExit", runOffImmediateExit, "immediate_exit"},
		{"runOffExitReason", runOffExitReason, "exit_reason"},
		{"runOffExit", runOffExit, "io"},
		{"runOffValidRegs", runOffValidRegs, "kvm_valid_regs"},
		{"runOffDirtyRegs", runOffDirtyRegs, "kvm_dirty_regs"},
		{"runOffSyncRegs", runOffSyncRegs, "s"},
		// Field sizes the accessors assume.
		{"immediate_exit size", 1, "sizeof_immediate_exit"},
		{"exit_reason size", 4, "sizeof_exit_reason"},
		{"kvm_valid_regs size", 8, "sizeof_kvm_valid_regs"},
		{"kvm_dirty_regs size", 8, "sizeof_kvm_dirty_regs"},
		// The union members IO and ExitDetail decode, at the union's start.
		{"io.direction", runOffExit + 0, "io.direction"},
		{"io.size", runOffExit + 1, "io.size"},
		{"io.port", runOffExit + 2, "io.port"},
		{"io.count", runOffExit + 4, "io.count"},
		{"io.data_offset", runOffExit + 8, "io.data_offset"},
		{"internal.suberror", runOffExit, "internal.suberror"},
		{"fail_entry reason", runOffExit, "fail_entry.hardware_entry_failure_reason"},
		{"ExitIO", ExitIO, "KVM_EXIT_IO"},
		{"ExitInternalError", ExitInternalError, "KVM_EXIT_INTERNAL_ERROR"},
		{"ExitFailEntry", ExitFailEntry, "KVM_EXIT_FAIL_ENTRY"},
		{"IODirOut", IODirOut, "KVM_EXIT_IO_OUT"},
	}
	for _, tc := range tests {
		want, ok := c[tc.c]
		if !ok {
			t.Errorf("%s: the probe printed no %q", tc.name, tc.c)
		} else if tc.got != want {
			t.Errorf("%s = %d, <linux/kvm.h> says %d", tc.name, tc.got, want)
		}
	}
}

// fakeRun is a kvm_run page (plus the PIO data page) filled through the C
// offsets, so the accessors are checked against the header, not themselves.
func fakeRun(t *testing.T, set func(c map[string]uint64, run []byte)) *VCPU {
	c := layout(t)
	run := make([]byte, 3*4096)
	for i := range run {
		run[i] = 0xee // garbage where nothing was set
	}
	set(c, run)
	return &VCPU{run: run}
}

func TestExitDecode(t *testing.T) {
	le := binary.LittleEndian
	ioExit := func(dir, size uint8, port uint16, count uint32, dataOff uint64, data uint32) func(map[string]uint64, []byte) {
		return func(c map[string]uint64, run []byte) {
			le.PutUint32(run[c["exit_reason"]:], uint32(c["KVM_EXIT_IO"]))
			run[c["io.direction"]] = dir
			run[c["io.size"]] = size
			le.PutUint16(run[c["io.port"]:], port)
			le.PutUint32(run[c["io.count"]:], count)
			le.PutUint64(run[c["io.data_offset"]:], dataOff)
			if dataOff <= uint64(len(run))-4 {
				le.PutUint32(run[dataOff:], data)
			}
		}
	}
	ioTests := []struct {
		name string
		set  func(map[string]uint64, []byte)
		want IOExit
	}{
		{"outl", ioExit(1, 4, 0x513, 1, 4096, 0xdeadbeef), IOExit{Direction: 1, Size: 4, Port: 0x513, Count: 1, Data: 0xdeadbeef}},
		{"outw", ioExit(1, 2, 0x500, 1, 4096, 0xdeadbeef), IOExit{Direction: 1, Size: 2, Port: 0x500, Count: 1, Data: 0xbeef}},
		{"outb", ioExit(1, 1, 0x53f, 1, 4096, 0xdeadbeef), IOExit{Direction: 1, Size: 1, Port: 0x53f, Count: 1, Data: 0xef}},
		{"in", ioExit(0, 4, 0x60, 2, 8192, 0x12345678), IOExit{Direction: 0, Size: 4, Port: 0x60, Count: 2, Data: 0x12345678}},
		{"data offset outside", ioExit(1, 4, 0x500, 1, 1<<40, 0), IOExit{Direction: 1, Size: 4, Port: 0x500, Count: 1}},
		{"data offset wraps", ioExit(1, 4, 0x500, 1, ^uint64(3), 0), IOExit{Direction: 1, Size: 4, Port: 0x500, Count: 1}},
	}
	for _, tc := range ioTests {
		t.Run(tc.name, func(t *testing.T) {
			v := fakeRun(t, tc.set)
			if v.ExitReason() != ExitIO {
				t.Fatalf("ExitReason() = %d", v.ExitReason())
			}
			if got := v.IO(); got != tc.want {
				t.Errorf("IO() = %+v, want %+v", got, tc.want)
			}
		})
	}
	detailTests := []struct {
		name string
		set  func(map[string]uint64, []byte)
		want uint64
	}{
		{"internal error", func(c map[string]uint64, run []byte) {
			le.PutUint32(run[c["exit_reason"]:], uint32(c["KVM_EXIT_INTERNAL_ERROR"]))
			le.PutUint32(run[c["internal.suberror"]:], 1) // KVM_INTERNAL_ERROR_EMULATION
			le.PutUint32(run[c["internal.ndata"]:], 4)
		}, 1},
		{"entry failure", func(c map[string]uint64, run []byte) {
			le.PutUint32(run[c["exit_reason"]:], uint32(c["KVM_EXIT_FAIL_ENTRY"]))
			le.PutUint64(run[c["fail_entry.hardware_entry_failure_reason"]:], 0x80000021)
		}, 0x80000021},
	}
	for _, tc := range detailTests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fakeRun(t, tc.set).ExitDetail(); got != tc.want {
				t.Errorf("ExitDetail() = %#x, want %#x", got, tc.want)
			}
		})
	}
	t.Run("immediate exit", func(t *testing.T) {
		v := fakeRun(t, func(map[string]uint64, []byte) {})
		off := layout(t)["immediate_exit"]
		for _, on := range []bool{true, false, true} {
			v.SetImmediateExit(on)
			want := byte(0)
			if on {
				want = 1
			}
			if v.run[off] != want || v.run[off-1] != 0xee || v.run[off+1] != 0xee {
				t.Errorf("SetImmediateExit(%v): bytes % x", on, v.run[off-1:off+2])
			}
		}
	})
}
