package machine

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

func TestExitStatus(t *testing.T) {
	tests := []struct {
		e    Exit
		want int
	}{
		{Exit{}, 0},
		{Exit{Code: 1}, 1},
		{Exit{Code: 255}, 255},
		{Exit{Code: 256}, 0}, // exit(256) is 0 to the parent
		{Exit{Code: 257}, 1},
		{Exit{Code: -1}, 255},
		{Exit{Signal: unix.SIGKILL}, 137},
		{Exit{Signal: unix.SIGSEGV, Code: 3}, 139},
		{Exit{Signal: unix.SIGSYS}, 128 + 31},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%d", tc.e.Code, tc.e.Signal), func(t *testing.T) {
			if got := tc.e.Status(); got != tc.want {
				t.Errorf("Status() = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestInRange(t *testing.T) {
	const size = 16 << 20
	tests := []struct {
		gpa, n uint64
		ok     bool
	}{
		{Lowest, 8, true},
		{0, 0, true}, // a zero length names nothing
		{0x1000, 1, false},
		{Lowest - 1, 2, false},
		{0x4fff8, 8, true},
		{0x4fff8, 9, false}, // into the exception stack
		{0x55000, 1, false},
		{0x60000, 1, true},
		{size - 8, 8, true},
		{size - 8, 9, false},
		{size, 1, false},
		{Lowest, ^uint64(0), false},
		{^uint64(0), 2, false},
	}
	for _, tc := range tests {
		if got := InRange(tc.gpa, tc.n, size); got != tc.ok {
			t.Errorf("InRange(%#x, %#x) = %v, want %v", tc.gpa, tc.n, got, tc.ok)
		}
	}
}
