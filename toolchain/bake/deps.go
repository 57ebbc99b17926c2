// What the image's dynamic ELF files load: their interpreter and libraries,
// found as their loader would (toolchain/ldso) and placed where the loader
// in the image looks for them.
package bake

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ukfork/ukfork/toolchain/image"
	"github.com/ukfork/ukfork/toolchain/ldso"
)

// Added is one entry bake put in the image for a dynamic ELF file.
type Added struct {
	Path   string // in the image
	Type   string // image.TypeFile or image.TypeSymlink
	Target string // a symlink's
	Host   string // a file's host path
	Size   int64
	Why    string // "libc.so.6, needed by /bin/ls", "interpreter of /bin/ls"...
}

// cachePath is where glibc's ld.so reads its cache (dl-cache.c).
const cachePath = "/etc/ld.so.cache"

// depPlacer puts objects into the entries of an image being baked.
type depPlacer struct {
	entries map[string]*pending
	added   []Added
	ours    map[string]bool // guest paths of files placed here (not --file's)
}

// addDeps finds the interpreter and libraries of every dynamic ELF file of
// the image (the program at progPath, then the --file ones in path order)
// and adds them, their symlinks and what their loader reads (glibc's
// /etc/ld.so.cache, musl's path file) unless the image has them already:
// a file given with --file wins. dlopen are the program's --lib names.
func addDeps(entries map[string]*pending, progPath string, dlopen []string) ([]Added, error) {
	pl := &depPlacer{entries: entries, ours: map[string]bool{}}
	type elfFile struct{ host, guest, arg string }
	files := []elfFile{{entries[progPath].host, progPath, ""}}
	var paths []string
	for p, pe := range entries {
		// A malformed ELF file given with --file is data to bake (the
		// loader in the image would refuse it as the host's does).
		if p != progPath && pe.e.Type == image.TypeFile && pe.host != "" && isLoadableELF(pe.host) && ldso.Check(pe.host) == nil {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		files = append(files, elfFile{entries[p].host, p, entries[p].arg + ": "})
	}
	glibc := false
	var muslFiles []string
	for i, f := range files {
		var libs []string
		if i == 0 {
			libs = dlopen
		}
		d, err := ldso.ResolveAt(ldso.Config{}, f.host, f.guest, libs)
		if err != nil {
			return nil, fmt.Errorf("%s%w", f.arg, missingHint(err))
		}
		if !d.Dynamic() {
			continue
		}
		guestOf := map[string]string{d.Program.Path: f.guest}
		for _, o := range append([]*ldso.Object{d.Interp}, d.Libs...) {
			guestOf[o.Path] = o.Guest
		}
		if err := pl.place(d.Interp, "interpreter of "+f.guest); err != nil {
			return nil, err
		}
		for _, l := range d.Libs {
			why := l.Name + ", needed by " + guestOf[l.NeededBy]
			if l.Dlopen && l.NeededBy == d.Program.Path {
				why = l.Name + ", --lib"
			}
			if err := pl.place(l, why); err != nil {
				return nil, err
			}
		}
		if d.Musl {
			muslFiles = append(muslFiles, d.Interp.Guest)
		} else {
			glibc = true
		}
	}
	// The loader's own configuration, the host's: the image's loader then
	// makes the choices the host's made. A cache entry for a file the image
	// lacks makes ld.so go on to the system directories (dl-load.c).
	if glibc {
		if err := pl.config(cachePath, "glibc's library cache"); err != nil {
			return nil, err
		}
	}
	for _, interp := range muslFiles {
		if p := muslPathFile(interp); p != "" {
			if err := pl.config(p, "musl's search path"); err != nil {
				return nil, err
			}
		}
	}
	return pl.added, nil
}

// missingHint adds what to do to a library that was not found.
func missingHint(err error) error {
	if strings.Contains(err.Error(), " not found in ") {
		return fmt.Errorf("%w, or add it with --file HOSTPATH:GUESTPATH (--lib NAME for one loaded with dlopen)", err)
	}
	return err
}

// muslPathFile is the search path file of the musl loader at interp
// (/etc/ld-musl-x86_64.path for /lib/ld-musl-x86_64.so.1), as ldso reads it.
func muslPathFile(interp string) string {
	dir := path.Dir(path.Dir(interp))
	if dir == "/" {
		dir = ""
	}
	return dir + "/etc/ld-musl-x86_64.path"
}

// config adds the host's loader configuration file at p, if the host has
// one and the image does not.
func (pl *depPlacer) config(p, why string) error {
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("%s: %w", p, err)
	}
	return pl.walk("/", "/", p, p, p, why)
}

// place adds the object o where the image's loader opens it (o.Guest),
// with the symlinks on the way as on the host. When o sits in the image
// where it sits on the host, its whole path mirrors the host's; when an
// $ORIGIN put it elsewhere, its directory is made in the image and only
// the last step (its symlink chain in that directory) mirrors the host.
func (pl *depPlacer) place(o *ldso.Object, why string) error {
	real, err := filepath.EvalSymlinks(o.Real)
	if err != nil {
		return err
	}
	if o.Guest == o.Path {
		return pl.walk("/", "/", o.Guest, o.Guest, real, why)
	}
	dir, err := pl.mkdirs(path.Dir(o.Guest), o.Guest, why)
	if err != nil {
		return err
	}
	hdir, err := filepath.EvalSymlinks(path.Dir(o.Path))
	if err != nil {
		return err
	}
	return pl.walk(dir, hdir, path.Base(o.Guest), o.Guest, real, why)
}

// mkdirs makes directory p in the image (its missing parts plain
// directories, symlinks already there followed) for the file at target,
// and returns its path with those symlinks resolved.
func (pl *depPlacer) mkdirs(p, target, why string) (string, error) {
	cur := "/"
	rest := strings.Split(p, "/")
	for hops := 0; len(rest) > 0; {
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
		e, ok := pl.entries[next]
		switch {
		case !ok:
			pl.entries[next] = &pending{e: image.Entry{Path: next, Type: image.TypeDir, Mode: 0o755}, arg: why}
		case e.e.Type == image.TypeSymlink:
			if hops++; hops > maxHops {
				return "", fmt.Errorf("%s (%s): too many symlinks in the image at %s", target, why, next)
			}
			if strings.HasPrefix(e.e.Target, "/") {
				next = "/"
			} else {
				next = cur
			}
			rest = append(strings.Split(e.e.Target, "/"), rest...)
		case e.e.Type != image.TypeDir:
			return "", fmt.Errorf("%s puts a %s at %s, a directory on the way to %s (%s): give it another guest path", e.arg, e.e.Type, next, target, why)
		}
		cur = next
	}
	return cur, nil
}

// maxHops bounds the symlinks of one walk, as the kernel's.
const maxHops = 40

// walk makes guest path p (taken from image directory cur, whose host
// counterpart is hcur, "" once they part; target in errors) resolve in
// the image to a copy of the host file real: each step the image lacks is copied from the
// host's same step (a symlink as a symlink, a directory as a directory),
// the last one from real where the host has no counterpart; a step the
// image has is followed, as the guest's kernel will.
func (pl *depPlacer) walk(cur, hcur, p, target, real, why string) error {
	rest := strings.Split(p, "/")
	for hops := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			if hcur != "" {
				hcur = path.Dir(hcur)
			}
			continue
		}
		next, hnext := path.Join(cur, c), ""
		if hcur != "" {
			hnext = path.Join(hcur, c)
		}
		last := len(rest) == 0
		var hst fs.FileInfo
		if hnext != "" {
			hst, _ = os.Lstat(hnext)
		}
		e, ok := pl.entries[next]
		if !ok {
			switch {
			case hst != nil && hst.Mode()&fs.ModeSymlink != 0:
				t, err := os.Readlink(hnext)
				if err != nil {
					return err
				}
				pl.add(image.Entry{Path: next, Type: image.TypeSymlink, Mode: 0o777, MTime: hst.ModTime().Unix(), Target: t}, "", why)
				e = pl.entries[next]
			case !last:
				mode := uint32(0o755)
				if hst == nil || !hst.IsDir() {
					hnext = ""
				} else {
					mode = uint32(hst.Mode().Perm())
				}
				pl.entries[next] = &pending{e: image.Entry{Path: next, Type: image.TypeDir, Mode: mode}, arg: why}
				cur, hcur = next, hnext
				continue
			default:
				src := real
				if hst != nil && hst.Mode().IsRegular() {
					src = hnext
				}
				st, err := os.Stat(src)
				if err != nil {
					return err
				}
				pl.add(image.Entry{Path: next, Type: image.TypeFile, Mode: uint32(st.Mode().Perm()), MTime: st.ModTime().Unix()}, src, why)
				pl.added[len(pl.added)-1].Size = st.Size()
				return nil
			}
		}
		switch e.e.Type {
		case image.TypeDir:
			if last {
				return fmt.Errorf("%s puts a directory at %s, where %s (%s) goes: give it another guest path", e.arg, next, target, why)
			}
			cur, hcur = next, hnext
		case image.TypeSymlink:
			if hops++; hops > maxHops {
				return fmt.Errorf("%s (%s): too many symlinks in the image at %s", target, why, next)
			}
			t := e.e.Target
			// The host walk follows along while the host has the same link.
			if hst == nil || hst.Mode()&fs.ModeSymlink == 0 {
				hcur = ""
			} else if ht, err := os.Readlink(hnext); err != nil || ht != t {
				hcur = ""
			}
			if strings.HasPrefix(t, "/") {
				cur = "/"
				if hcur != "" {
					hcur = "/"
				}
			}
			rest = append(strings.Split(t, "/"), rest...)
		default:
			if !last {
				return fmt.Errorf("%s puts a %s at %s, a directory on the way to %s (%s): give it another guest path", e.arg, e.e.Type, next, target, why)
			}
			if pl.ours[next] && !sameFile(e.host, real) {
				return fmt.Errorf("%s and %s both go to %s in the image, and are different files: give one of them another path with --file", e.host, real, next)
			}
			return nil // already there; a --file one wins
		}
	}
	return nil
}

func (pl *depPlacer) add(e image.Entry, host, why string) {
	pl.entries[e.Path] = &pending{e: e, host: host, arg: why}
	if e.Type == image.TypeFile {
		pl.ours[e.Path] = true
	}
	pl.added = append(pl.added, Added{Path: e.Path, Type: e.Type, Target: e.Target, Host: host, Why: why})
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// isLoadableELF says whether the file at p is an x86-64 ELF executable or
// shared object, the files whose needs bake resolves (others are data).
func isLoadableELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	// ELF64, little-endian, ET_EXEC or ET_DYN, EM_X86_64.
	return string(h[:4]) == "\x7fELF" && h[4] == 2 && h[5] == 1 &&
		(h[16] == 2 || h[16] == 3) && h[17] == 0 && h[18] == 62 && h[19] == 0
}
