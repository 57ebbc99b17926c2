// The control directory: trusted only when it is this user's alone.
package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Dir is where runs put their sockets: $UKFORK_RUN_DIR, else /run/ukfork
// for root, else $XDG_RUNTIME_DIR/ukfork, else /tmp/ukfork-UID.
func Dir() string {
	if d := os.Getenv("UKFORK_RUN_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/run/ukfork"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "ukfork")
	}
	return fmt.Sprintf("/tmp/ukfork-%d", os.Getuid())
}

// errNoDir: no run has made the control directory yet.
var errNoDir = errors.New("no control directory")

// openDir returns the control directory, made 0700 first if create is set
// and it is missing, once checkDir trusts it. In a shared directory such as
// /tmp another user could have made it first: to spoof `ukfork ps`, receive
// `ukfork kill` requests or hold every pid block.
func openDir(create bool) (string, error) {
	dir := Dir()
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("control: %w", err)
		}
	}
	if err := checkDir(dir, os.Geteuid()); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", errNoDir
		}
		return "", err
	}
	return dir, nil
}

// checkDir refuses a control directory that is not a directory of uid's
// that only uid can use: not a symlink, owned by uid, no group or other
// permissions.
func checkDir(dir string, uid int) error {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("control: %w", &fs.PathError{Op: "lstat", Path: dir, Err: err})
	}
	const fix = "remove it, or set UKFORK_RUN_DIR to a directory of your own"
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("control directory %s is a symlink: %s", dir, fix)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("control directory %s is not a directory: %s", dir, fix)
	case int(st.Uid) != uid:
		return fmt.Errorf("control directory %s belongs to uid %d, not to you (uid %d): %s", dir, st.Uid, uid, fix)
	case st.Mode&0o077 != 0:
		return fmt.Errorf("control directory %s has mode %04o, open to other users: chmod 700 %s, or %s", dir, st.Mode&0o7777, dir, fix)
	}
	return nil
}
