package syscalls

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedFilesUpToDate fails when a file made from the list differs
// from what the generator makes now: the list is the one source.
func TestGeneratedFilesUpToDate(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run %s", name, Command)
		}
	}
}

// TestListKeepsEveryName: the host names every syscall of the list, and the
// list names every number the kernel header does, as before it existed.
func TestListKeepsEveryName(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", ListFile))
	if err != nil {
		t.Fatal(err)
	}
	list, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 360 || list[0].Name != "read" || list[59].Name != "execve" {
		t.Errorf("the list lost syscalls: %d of them, first %q", len(list), list[0].Name)
	}
	handlers := 0
	for _, s := range list {
		if s.Handler != "" {
			handlers++
		}
	}
	if handlers < 100 {
		t.Errorf("only %d syscalls have a handler", handlers)
	}
}

func TestParseRejects(t *testing.T) {
	const ok = "0\tread\tsys_read\tsupported\tUKF_HC_READV\t\n"
	cases := []struct{ name, line, want string }{
		{"fields", "1\twrite\tsys_write\tsupported\n", "fields"},
		{"number", "x\twrite\tsys_write\tsupported\t-\t\n", "number"},
		{"order", "0\twrite\tsys_write\tsupported\t-\t\n", "not above"},
		{"twice", "1\tread\tsys_read\tsupported\t-\t\n", "twice"},
		{"status", "1\twrite\tsys_write\tfine\t-\t\n", "status"},
		{"handler for ENOSYS", "1\twrite\tsys_write\tENOSYS\t-\t\n", "handler"},
		{"no handler", "1\twrite\t-\tsupported\t-\t\n", "handler"},
		{"bad handler", "1\twrite\twrite\tsupported\t-\t\n", "bad handler"},
		{"bad hypercall", "1\twrite\tsys_write\tsupported\tWRITEV\t\n", "hypercall"},
		{"partial without note", "1\twrite\tsys_write\tpartial\t-\t\n", "note"},
		{"comment end in note", "1\twrite\tsys_write\tpartial\t-\ta */ b\n", "*/"},
		{"beyond the table", "600\tfoo\tsys_foo\tsupported\t-\t\n", "no room"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(ok + tc.line))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte("# comment\n" + ok)); err != nil {
		t.Errorf("a good list: %v", err)
	}
}
