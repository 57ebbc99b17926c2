package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckDir: the control directory is trusted only as a real directory
// of the user's, 0700; anything else is refused with one line saying what
// to do.
func TestCheckDir(t *testing.T) {
	uid := os.Geteuid()
	tests := []struct {
		name string
		make func(p string) error
		uid  int    // whose directory it must be
		want string // "" if trusted
	}{
		{"0700", func(p string) error { return os.Mkdir(p, 0o700) }, uid, ""},
		{"0755", func(p string) error { return mkdirMode(p, 0o755) }, uid, "mode 0755"},
		{"0770", func(p string) error { return mkdirMode(p, 0o770) }, uid, "mode 0770"},
		{"0701", func(p string) error { return mkdirMode(p, 0o701) }, uid, "mode 0701"},
		{"another user's", func(p string) error { return os.Mkdir(p, 0o700) }, uid + 1, "not to you"},
		{"a symlink to a good directory", func(p string) error {
			if err := os.Mkdir(p+".real", 0o700); err != nil {
				return err
			}
			return os.Symlink(p+".real", p)
		}, uid, "is a symlink"},
		{"a file", func(p string) error { return os.WriteFile(p, nil, 0o600) }, uid, "not a directory"},
		{"missing", func(string) error { return nil }, uid, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "ukfork")
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			err := checkDir(p, tc.uid)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want == "":
			case err == nil:
				t.Errorf("trusted, want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n"):
				t.Errorf("error %q: want one line naming %s and %q", err, p, tc.want)
			case tc.name != "missing" && !strings.Contains(err.Error(), "UKFORK_RUN_DIR"):
				t.Errorf("error %q does not say what to do", err)
			}
		})
	}
}

func mkdirMode(p string, mode os.FileMode) error {
	if err := os.Mkdir(p, 0o700); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

// TestOpenDir: Reserve makes the directory 0700 whatever the umask; ps and
// kill never make it and refuse one they cannot trust, as Reserve does.
func TestOpenDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "ukfork")
	t.Setenv("UKFORK_RUN_DIR", dir)
	if runs, err := List(); err != nil || runs != nil {
		t.Errorf("List with no directory: %v %v", runs, err)
	}
	if err := Kill(4097, 15); err == nil || !strings.Contains(err.Error(), "no running ukfork program") {
		t.Errorf("Kill with no directory: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("List or Kill made the directory: %v", err)
	}
	s, err := Reserve("x.img", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 || !st.IsDir() {
		t.Fatalf("made %v %v, want a 0700 directory", st.Mode(), err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func() error{
		"Reserve": func() error { _, err := Reserve("x.img", nil); return err },
		"List":    func() error { _, err := List(); return err },
		"Kill":    func() error { return Kill(4097, 15) },
	} {
		if err := f(); err == nil || !strings.Contains(err.Error(), "mode 0777") {
			t.Errorf("%s in a 0777 directory: %v, want a refusal", name, err)
		}
	}
}

// TestReclaim: a block whose lock is free is stale: Reserve removes its
// control socket and socket directory; a live block's are left alone.
func TestReclaim(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ukfork")
	t.Setenv("UKFORK_RUN_DIR", dir)
	if _, err := openDir(true); err != nil {
		t.Fatal(err)
	}
	live, err := lockBlock(dir, 1) // a run holding block 1
	if err != nil || live == nil {
		t.Fatalf("lockBlock: %v", err)
	}
	defer live.Close()
	for b := 1; b <= 3; b++ {
		if b > 1 {
			lock, _ := lockBlock(dir, b)
			lock.Close() // a lock file left free: the run is gone
		}
		if err := os.WriteFile(sockPath(dir, b), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(sockDir(dir, b), "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Reserve("x.img", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Base != 2*BlockSize || s.SockDir != sockDir(dir, 2) {
		t.Errorf("took block %d, socket directory %s; want block 2, %s", s.Base/BlockSize, s.SockDir, sockDir(dir, 2))
	}
	for _, p := range []string{sockPath(dir, 1), sockDir(dir, 1), sockPath(dir, 2)} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s: %v, want it kept", p, err)
		}
	}
	for _, p := range []string{sockDir(dir, 2), sockPath(dir, 3), sockDir(dir, 3)} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it reclaimed", p, err)
		}
	}
}
