// musl's loader rules (ldso/dynlink.c: load_library, fixup_rpath,
// path_open).
package ldso

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
)

const (
	muslNameMax = 255               // NAME_MAX: longer names are not searched
	muslBufSize = 2*muslNameMax + 2 // load_library's buffer: longer candidates are skipped
)

// muslReserved are the libraries musl's libc.so is: a need for any of them
// (libc.so, libpthread.so.0, libm.so.6...) is the loader itself.
var muslReserved = []string{"c.", "pthread.", "rt.", "m.", "dl.", "util.", "xnet."}

func (r *resolver) loadMusl(name string, loader *Object) (*Object, error) {
	if strings.HasPrefix(name, "lib") {
		for _, res := range muslReserved {
			if strings.HasPrefix(name[3:], res) {
				return r.known(r.interp, name), nil
			}
		}
	}
	if strings.Contains(name, "/") {
		return r.openName(name, name, loader)
	}
	for _, o := range r.objs[1:] {
		if o.short == name {
			return r.known(o, name), nil
		}
	}
	var tried []string
	if len(name) <= muslNameMax {
		for l := loader; l != nil; l = l.loader {
			dirs := r.muslRpath(l)
			if len(dirs) == 0 {
				continue
			}
			var names []string
			for _, d := range dirs {
				names = append(names, d.host)
			}
			tried = append(tried, "RUNPATH of "+l.Path+" "+strings.Join(names, ":"))
			if o, err := r.muslTry(name, dirs, loader); o != nil || err != nil {
				return o, err
			}
		}
		dirs, err := r.muslSysPath()
		if err != nil {
			return nil, err
		}
		tried = append(tried, "the musl path "+strings.Join(dirs, ":"))
		if o, err := r.muslTry(name, sameDirs(dirs), loader); o != nil || err != nil {
			return o, err
		}
	}
	return nil, r.notFound(name, loader, tried, nil)
}

// muslTry is path_open: the first file that opens wins; an error other
// than a missing or unreachable file stops the search.
func (r *resolver) muslTry(name string, dirs []searchDir, loader *Object) (*Object, error) {
	for _, d := range dirs {
		p := d.host + "/" + name
		if len(p) >= muslBufSize {
			continue
		}
		o, err := r.open(p, d.guest+"/"+name, name, loader)
		if err == nil {
			if o.short == "" {
				o.short = name
			}
			return o, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) &&
			!errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.ENAMETOOLONG) {
			return nil, fmt.Errorf("%s (needed by %s): %s: %w", name, loader.Path, p, err)
		}
	}
	return nil, nil
}

// muslRpath is the search path of object o: its DT_RUNPATH, else its
// DT_RPATH, with $ORIGIN (or ${ORIGIN}) expanded; a path with any other $
// is not used at all.
func (r *resolver) muslRpath(o *Object) []searchDir {
	s := o.info.runpath
	if !o.info.hasRunPath {
		s = o.info.rpath
	}
	g := s
	if strings.Contains(s, "$") {
		rest := strings.NewReplacer("${ORIGIN}", "", "$ORIGIN", "").Replace(s)
		if strings.Contains(rest, "$") {
			return nil
		}
		origin, gorigin := o.origin, o.gorigin
		if o != r.objs[0] {
			origin = o.Path[:strings.LastIndex(o.Path, "/")]
			gorigin = o.Guest[:strings.LastIndex(o.Guest, "/")]
		}
		s = strings.NewReplacer("${ORIGIN}", origin, "$ORIGIN", origin).Replace(s)
		g = strings.NewReplacer("${ORIGIN}", gorigin, "$ORIGIN", gorigin).Replace(g)
	}
	hs, gs := splitMuslPath(s), splitMuslPath(g)
	dirs := make([]searchDir, len(hs))
	for i := range hs {
		dirs[i] = searchDir{hs[i], hs[i]}
		if len(gs) == len(hs) {
			dirs[i].guest = gs[i]
		}
	}
	return dirs
}

// splitMuslPath splits at ':' and newlines; empty elements are skipped.
func splitMuslPath(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ':' || c == '\n' })
}

// muslSysPath reads etc/ld-musl-x86_64.path beside the interpreter's
// prefix (/etc for /lib/ld-musl-x86_64.so.1), as musl does once.
func (r *resolver) muslSysPath() ([]string, error) {
	if r.muslPath != nil {
		return r.muslPath, nil
	}
	ip := r.interp.Path
	prefix := ""
	if t := strings.LastIndex(ip, "/"); t > 0 {
		if z := strings.LastIndex(ip[:t], "/"); z > 0 {
			prefix = ip[:z]
		}
	}
	p := prefix + "/etc/ld-musl-x86_64.path"
	s := muslDefaultPath
	real, _, err := r.walk(p)
	if err == nil {
		var b []byte
		if b, err = readBounded(r.host(real), 1<<20); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		s = cstring(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	r.muslPath = splitMuslPath(s)
	if r.muslPath == nil {
		r.muslPath = []string{}
	}
	return r.muslPath, nil
}
