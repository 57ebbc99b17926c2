// Package ldso finds the interpreter and every shared library a dynamic
// program loads, by the rules of glibc's or musl's dynamic loader, without
// running anything: what `ukfork bake` must put beside a dynamic program.
//
// glibc (ld.so(8)): a name with a slash is a path; otherwise DT_RPATH of
// the loading object and of each object that loaded it in turn, up to the
// program (only when the loading object has no DT_RUNPATH), then the loading
// object's own DT_RUNPATH, /etc/ld.so.cache, then the system directories
// (the last two skipped where DF_1_NODEFLIB says). LD_LIBRARY_PATH and
// LD_PRELOAD are never used: a bake must not depend on the baker's
// environment. musl: DT_RUNPATH (or DT_RPATH) of the loading object and of
// its loaders, then the directories of /etc/ld-musl-x86_64.path.
package ldso

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// maxObjects bounds the objects one program may load: far above what
// real programs load (python3 with its extension modules, a few hundred).
const maxObjects = 4096

// Config is the machine whose loader rules apply. The zero value is
// Debian's x86-64 layout on this host's root.
type Config struct {
	// Root is the host directory seen as "/" (default "/"): the cache,
	// the search path file and every search directory are read below it,
	// and symlinks resolve inside it.
	Root string
	// HWCaps are the glibc-hwcaps subdirectories (e.g. "x86-64-v3") ld.so
	// may prefer, best first. None by default: the baseline libraries,
	// which run on every x86-64 machine an image may boot on.
	HWCaps []string
	// Platform is $PLATFORM (default "x86_64", the kernel's AT_PLATFORM).
	Platform string
	// Lib is $LIB (default "lib/x86_64-linux-gnu", Debian's multiarch).
	Lib string
	// SystemDirs are glibc's default directories, searched last
	// (default Debian's: /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu,
	// /lib, /usr/lib).
	SystemDirs []string
	// Interp is the loader whose rules apply to a shared library resolved
	// on its own, which names none (default GlibcInterp).
	Interp string
}

// GlibcInterp is glibc's x86-64 loader, as programs name it.
const GlibcInterp = "/lib64/ld-linux-x86-64.so.2"

// DebianSystemDirs are the system search path of Debian's x86-64 ld.so
// (`ld.so --help`).
var DebianSystemDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"}

// muslDefaultPath is musl's search path when its path file is missing.
const muslDefaultPath = "/lib:/usr/local/lib:/usr/lib"

// Object is one ELF file the loader opens.
type Object struct {
	// Name is what it was first asked for by: a DT_NEEDED entry, the
	// program's PT_INTERP, or a --lib name. Names lists every name that
	// reached it, first included.
	Name  string
	Names []string
	// Path is where the loader opens it (what ldd prints); Real is the
	// file itself, every symlink resolved; Links are the symlinks met on
	// the way, so that an image can hold them and their targets.
	Path  string
	Real  string
	Links []Link
	// Guest is where the loader opens it in an image whose program sits
	// at ResolveAt's guest path: Path, unless an $ORIGIN of an object that
	// sits elsewhere in the image than on the host led to it.
	Guest string
	// NeededBy is the Path of the object whose need loaded it first ("" for
	// the program and the interpreter).
	NeededBy string
	// Dlopen says it was asked for with --lib (or by such a library).
	Dlopen bool
	Soname string

	info    *elfInfo
	loader  *Object
	origin  string // $ORIGIN
	gorigin string // $ORIGIN in the image
	short   string // musl: the name a search found it by
	id      fileID
}

// Deps is what a program loads.
type Deps struct {
	Program *Object
	// Interp is the dynamic loader (nil for a static program); Musl says
	// it is musl's, whose rules applied.
	Interp *Object
	Musl   bool
	// Libs are the shared libraries in the order the loader maps them
	// (breadth first), the interpreter not included.
	Libs []*Object
}

// Dynamic says whether the program needs a loader at all.
func (d *Deps) Dynamic() bool { return d.Interp != nil }

// Names lists the libraries by the names they were asked for, in load
// order.
func (d *Deps) Names() []string {
	var n []string
	for _, l := range d.Libs {
		n = append(n, l.Name)
	}
	return n
}

type fileID struct{ dev, ino uint64 }

type resolver struct {
	cfg      Config
	musl     bool
	objs     []*Object // load order: the program first, the interpreter where first needed
	queued   map[*Object]bool
	interp   *Object
	cache    *Cache
	cacheErr error
	cacheRd  bool
	muslPath []string
}

// Resolve finds the interpreter and libraries of the program at host path
// program, and of the libraries in dlopen (loaded by the program after its
// start, as with dlopen(3)). A missing library is an error naming it and
// the object that needs it.
func Resolve(cfg Config, program string, dlopen []string) (*Deps, error) {
	return ResolveAt(cfg, program, "", dlopen)
}

// ResolveAt is Resolve for a program that sits at guest in an image (its
// real path there; "" for where it is on the host): $ORIGIN in the image
// is guest's directory, and each object's Guest says where the image's
// loader looks for it. The files are still the ones found on the host.
func ResolveAt(cfg Config, program, guest string, dlopen []string) (*Deps, error) {
	if cfg.Root == "" {
		cfg.Root = "/"
	}
	if cfg.Platform == "" {
		cfg.Platform = "x86_64"
	}
	if cfg.Lib == "" {
		cfg.Lib = "lib/x86_64-linux-gnu"
	}
	if cfg.Interp == "" {
		cfg.Interp = GlibcInterp
	}
	if cfg.SystemDirs == nil {
		cfg.SystemDirs = DebianSystemDirs
	}
	r := &resolver{cfg: cfg, queued: map[*Object]bool{}}
	prog, err := r.program(program, guest)
	if err != nil {
		return nil, err
	}
	d := &Deps{Program: prog}
	interp := prog.info.interp
	if interp == "" {
		if len(prog.info.needed) == 0 && len(dlopen) == 0 {
			return d, nil // static
		}
		if prog.info.typ != elf.ET_DYN {
			return nil, fmt.Errorf("%s needs shared libraries but names no interpreter (PT_INTERP): relink it as a normal dynamic or static program", program)
		}
		interp = cfg.Interp // a shared library given alone
	}
	r.musl = strings.HasPrefix(path.Base(interp), "ld-musl-")
	if !strings.HasPrefix(interp, "/") {
		return nil, fmt.Errorf("%s: interpreter %q is not an absolute path: relink it with the default dynamic linker", program, interp)
	}
	if r.interp, err = r.open(interp, interp, interp, nil); err != nil {
		return nil, fmt.Errorf("%s: interpreter %s: %w", program, interp, err)
	}
	if !r.musl && r.interp.Soname != "" {
		// ld.so answers to its soname (libc.so.6 needs ld-linux-x86-64.so.2).
		r.interp.Names = append(r.interp.Names, r.interp.Soname)
	}
	d.Interp, d.Musl = r.interp, r.musl
	if err := r.closure(prog, prog.info.needed, false); err != nil {
		return nil, err
	}
	if err := r.closure(prog, dlopen, true); err != nil {
		return nil, err
	}
	for _, o := range r.objs[1:] {
		if o != r.interp {
			d.Libs = append(d.Libs, o)
		}
	}
	return d, nil
}

// program opens the program itself. Its $ORIGIN is the directory of its
// real path, as the kernel gives it (/proc/self/exe); guest is that path
// in the image ("" for the same as on the host).
func (r *resolver) program(p, guest string) (*Object, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(r.cfg.Root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("%s is outside the root %s", p, r.cfg.Root)
	}
	o, err := r.open("/"+filepath.ToSlash(rel), "/"+filepath.ToSlash(rel), p, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	o.origin, o.gorigin = dirOf(o.Real), dirOf(o.Real)
	if guest != "" {
		o.Guest, o.gorigin = guest, dirOf(guest)
	}
	return o, nil
}

// closure loads names on behalf of first, then everything they need,
// breadth first as ld.so's _dl_map_object_deps and musl's load_deps do.
func (r *resolver) closure(first *Object, names []string, dlopen bool) error {
	queue := []*Object{first}
	r.queued[first] = true
	for i := 0; i < len(queue); i++ {
		o := queue[i]
		needs := o.info.needed
		if i == 0 {
			needs = names
		}
		for j, n := range needs {
			dep, err := r.load(n, o)
			if err != nil {
				if i == 0 && dlopen {
					return fmt.Errorf("--lib %s: %w", n, err)
				}
				if o.info.auxiliary[j] {
					continue // an auxiliary filtee may be missing
				}
				return err
			}
			if r.queued[dep] {
				continue
			}
			r.queued[dep] = true
			dep.Dlopen = dlopen
			queue = append(queue, dep)
		}
	}
	return nil
}

// load finds one needed name for the object loader.
func (r *resolver) load(name string, loader *Object) (*Object, error) {
	if name == "" {
		return nil, fmt.Errorf("%s needs a library with an empty name: rebuild it", loader.Path)
	}
	if r.musl {
		return r.loadMusl(name, loader)
	}
	return r.loadGlibc(name, loader)
}

// loadGlibc follows _dl_map_object.
func (r *resolver) loadGlibc(name string, loader *Object) (*Object, error) {
	gname := r.expand(name, loader, loader.gorigin)
	name = r.expand(name, loader, loader.origin)
	for _, o := range r.objs {
		if o.Path == name || o.Soname == name || contains(o.Names, name) {
			return r.known(o, name), nil
		}
	}
	if strings.Contains(name, "/") {
		return r.openName(name, gname, loader)
	}
	var tried []string
	var other error
	try := func(p, g string) (*Object, error) {
		o, err := r.open(p, g, name, loader)
		switch {
		case err == nil:
			return o, nil
		case errors.Is(err, errOtherClass) || errors.Is(err, errOtherMachine):
			other = fmt.Errorf("%s: %w", p, err)
		case !errors.Is(err, fs.ErrNotExist) && !isSkippable(err):
			return nil, fmt.Errorf("%s (needed by %s): %s: %w", name, loader.Path, p, err)
		}
		return nil, nil
	}
	tryDirs := func(what string, dirs []searchDir) (*Object, error) {
		if len(dirs) == 0 {
			return nil, nil
		}
		var names []string
		for _, d := range dirs {
			names = append(names, d.host)
		}
		tried = append(tried, what+" "+strings.Join(names, ":"))
		for _, d := range dirs {
			for _, h := range r.cfg.HWCaps {
				sub := "glibc-hwcaps/" + h + "/" + name
				if o, err := try(inDir(d.host, sub), inDir(d.guest, sub)); o != nil || err != nil {
					return o, err
				}
			}
			if o, err := try(inDir(d.host, name), inDir(d.guest, name)); o != nil || err != nil {
				return o, err
			}
		}
		return nil, nil
	}
	if !loader.info.hasRunPath {
		for l := loader; l != nil; l = l.loader {
			if l.info.hasRPath {
				if o, err := tryDirs("RPATH of "+l.Path, r.searchPath(l.info.rpath, l)); o != nil || err != nil {
					return o, err
				}
			}
		}
	}
	if loader.info.hasRunPath {
		if o, err := tryDirs("RUNPATH of "+loader.Path, r.searchPath(loader.info.runpath, loader)); o != nil || err != nil {
			return o, err
		}
	}
	nodeflib := loader.info.flags1&flag1NoDefl != 0
	c, err := r.ldCache()
	if err != nil {
		return nil, err
	}
	if c != nil {
		tried = append(tried, "/etc/ld.so.cache")
		if p := c.Lookup(name, r.cfg.HWCaps); p != "" && !(nodeflib && r.inSystemDir(p)) {
			if o, err := try(p, p); o != nil || err != nil {
				return o, err
			}
		}
	}
	if !nodeflib {
		if o, err := tryDirs("system directories", sameDirs(r.cfg.SystemDirs)); o != nil || err != nil {
			return o, err
		}
	}
	return nil, r.notFound(name, loader, tried, other)
}

// openName opens a needed name that is a path, as both loaders do without
// searching: relative to the working directory, "/" in the guest; gname is
// the name as the image's loader expands it.
func (r *resolver) openName(name, gname string, loader *Object) (*Object, error) {
	p, g := name, gname
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasPrefix(g, "/") {
		g = "/" + g
	}
	o, err := r.open(p, g, name, loader)
	if err != nil {
		return nil, fmt.Errorf("%s (needed by %s): %w", name, loader.Path, err)
	}
	return o, nil
}

// isSkippable: errors that make ld.so try the next candidate.
func isSkippable(err error) bool {
	return errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EACCES) ||
		errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENAMETOOLONG)
}

func (r *resolver) notFound(name string, loader *Object, tried []string, other error) error {
	if other != nil {
		return fmt.Errorf("%s (needed by %s): only %v found: install the x86-64 build of it", name, loader.Path, other)
	}
	where := "nowhere"
	if len(tried) > 0 {
		where = strings.Join(tried, ", ")
	}
	return fmt.Errorf("%s (needed by %s) not found in %s: install the package that provides it, or put it where the RUNPATH or RPATH of %s points", name, loader.Path, where, loader.Path)
}

func (r *resolver) inSystemDir(p string) bool {
	for _, d := range r.cfg.SystemDirs {
		if strings.HasPrefix(p, strings.TrimRight(d, "/")+"/") {
			return true
		}
	}
	return false
}

// searchDir is a directory of a search path on the host and, its $ORIGIN
// taken from where the object sits in the image, in the image.
type searchDir struct{ host, guest string }

func sameDirs(dirs []string) []searchDir {
	s := make([]searchDir, len(dirs))
	for i, d := range dirs {
		s[i] = searchDir{d, d}
	}
	return s
}

// searchPath splits a DT_RPATH or DT_RUNPATH of object o into
// directories, tokens expanded, as fillin_rpath does.
func (r *resolver) searchPath(s string, o *Object) []searchDir {
	var dirs []searchDir
	seen := map[string]bool{}
	for _, d := range strings.Split(s, ":") {
		h := r.expand(d, o, o.origin)
		if seen[h] {
			continue
		}
		seen[h] = true
		dirs = append(dirs, searchDir{h, r.expand(d, o, o.gorigin)})
	}
	return dirs
}

// ldCache reads /etc/ld.so.cache once. No cache is no error, as for
// ld.so; a corrupt one is.
func (r *resolver) ldCache() (*Cache, error) {
	if r.cacheRd {
		return r.cache, r.cacheErr
	}
	r.cacheRd = true
	const p = "/etc/ld.so.cache"
	real, _, err := r.walk(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.cacheErr = fmt.Errorf("%s: %w", p, err)
		}
		return nil, r.cacheErr
	}
	b, err := readBounded(r.host(real), maxCache)
	if err == nil {
		r.cache, err = ParseCache(b)
	}
	if err != nil {
		r.cacheErr = fmt.Errorf("%s: %w: run ldconfig to rebuild it", p, err)
	}
	return r.cache, r.cacheErr
}

// readBounded reads a whole file of at most max bytes.
func readBounded(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%d bytes, more than %d", st.Size(), max)
	}
	b := make([]byte, st.Size())
	_, err = f.ReadAt(b, 0)
	return b, err
}

// known records that name reached the already loaded object o.
func (r *resolver) known(o *Object, name string) *Object {
	if !contains(o.Names, name) {
		o.Names = append(o.Names, name)
	}
	return o
}

// open loads the file at loader path p (g in the image), asked for as name
// by loader: the object already loaded from the same file, or a new one.
func (r *resolver) open(p, g, name string, loader *Object) (*Object, error) {
	real, links, err := r.walk(p)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(r.host(real))
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("%s: no inode number", p)
	}
	id := fileID{uint64(sys.Dev), sys.Ino}
	for _, o := range r.objs {
		if o.id == id {
			return r.known(o, name), nil
		}
	}
	if len(r.objs) >= maxObjects {
		return nil, fmt.Errorf("more than %d objects to load: a dependency loop through distinct files?", maxObjects)
	}
	info, err := readELF(r.host(real))
	if err != nil {
		return nil, err
	}
	if info.typ != elf.ET_DYN && loader != nil {
		return nil, fmt.Errorf("%s is an ELF %v; only shared objects can be loaded", p, info.typ)
	}
	o := &Object{Name: name, Names: []string{name}, Path: p, Real: real, Links: links, Guest: g,
		Soname: info.soname, info: info, loader: loader, origin: dirOf(p), gorigin: dirOf(g), id: id}
	if loader != nil {
		o.NeededBy = loader.Path
	}
	r.objs = append(r.objs, o)
	return o, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
