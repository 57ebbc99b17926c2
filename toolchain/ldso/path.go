// Paths as the loader sees them: resolved inside the root with the
// symlinks recorded, and dynamic string tokens ($ORIGIN, $LIB, $PLATFORM).
package ldso

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

const (
	maxPath     = 4096 // PATH_MAX: a longer candidate cannot be opened
	maxSymlinks = 40   // as the kernel's path walk
)

// Link is a symlink met on the way from the path the loader opens to the
// file: Path holds Target (as readlink gives it).
type Link struct {
	Path   string
	Target string
}

// host gives the host path of a path in the loader's view.
func (r *resolver) host(p string) string {
	return filepath.Join(r.cfg.Root, filepath.FromSlash(p))
}

// walk resolves the absolute path p inside the root as the kernel would
// open it (symlinks followed, absolute targets from the root, ".." after
// them), and returns the file's path and the symlinks met.
func (r *resolver) walk(p string) (string, []Link, error) {
	if len(p) > maxPath {
		return "", nil, &fs.PathError{Op: "open", Path: p[:40] + "...", Err: syscall.ENAMETOOLONG}
	}
	var links []Link
	cur := "/"
	rest := strings.Split(p, "/")
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		st, err := os.Lstat(r.host(next))
		if err != nil {
			return "", nil, err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			if len(rest) > 0 && !st.IsDir() {
				return "", nil, &fs.PathError{Op: "open", Path: p, Err: syscall.ENOTDIR}
			}
			cur = next
			continue
		}
		if len(links) == maxSymlinks {
			return "", nil, &fs.PathError{Op: "open", Path: p, Err: syscall.ELOOP}
		}
		t, err := os.Readlink(r.host(next))
		if err != nil {
			return "", nil, err
		}
		links = append(links, Link{Path: next, Target: t})
		if strings.HasPrefix(t, "/") {
			cur = "/"
		}
		rest = append(strings.Split(t, "/"), rest...)
		if len(rest) > maxPath {
			return "", nil, &fs.PathError{Op: "open", Path: p, Err: syscall.ENAMETOOLONG}
		}
	}
	return cur, links, nil
}

// expand replaces glibc's dynamic string tokens in s for object o, as
// _dl_dst_substitute does: $ORIGIN (o's directory, origin: on the host or
// in the image), $LIB and $PLATFORM, each also as ${NAME}; any other $
// stays as it is.
func (r *resolver) expand(s string, o *Object, origin string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		done := false
		for _, t := range []struct{ name, val string }{
			{"ORIGIN", origin},
			{"PLATFORM", r.cfg.Platform},
			{"LIB", r.cfg.Lib},
		} {
			if n := dstLen(s[i+1:], t.name); n > 0 {
				b.WriteString(t.val)
				i += n
				done = true
				break
			}
		}
		if !done {
			b.WriteByte('$')
		}
	}
	return b.String()
}

// dstLen is how many bytes after a '$' spell the token name: NAME not
// followed by an identifier character, or {NAME}. 0 if they do not.
func dstLen(s, name string) int {
	if strings.HasPrefix(s, "{"+name+"}") {
		return len(name) + 2
	}
	if !strings.HasPrefix(s, name) {
		return 0
	}
	if len(s) > len(name) {
		c := s[len(name)]
		if c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return 0
		}
	}
	return len(name)
}

// dirOf is the directory part of a loader path as ld.so computes an
// object's origin: everything before the last slash, "/" for "/name".
func dirOf(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// inDir joins a search directory and a name as ld.so does: trailing
// slashes dropped, an empty directory meaning the working directory (the
// guest starts in "/").
func inDir(dir, name string) string {
	dir = strings.TrimRight(dir, "/")
	if dir == "" {
		return "/" + name
	}
	if !strings.HasPrefix(dir, "/") {
		dir = "/" + dir
	}
	return dir + "/" + name
}
