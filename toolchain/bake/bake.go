// Package bake turns a program and a file tree into a ukfork image, as
// rumprun-bake does for Rumprun: with the interpreter and libraries of each
// dynamic ELF file in it.
package bake

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ukfork/ukfork/toolchain/image"
)

// Mapping places a host file or directory at a guest path.
type Mapping struct {
	Host  string
	Guest string
}

// ParseMapping reads HOSTPATH:GUESTPATH.
func ParseMapping(s string) (Mapping, error) {
	i := strings.LastIndex(s, ":")
	if i <= 0 || i == len(s)-1 {
		return Mapping{}, fmt.Errorf("--file %q: want HOSTPATH:GUESTPATH, e.g. --file ./data:/data", s)
	}
	m := Mapping{Host: s[:i], Guest: s[i+1:]}
	if !strings.HasPrefix(m.Guest, "/") {
		return Mapping{}, fmt.Errorf("--file %q: the guest path must be absolute, e.g. %s:/%s", s, m.Host, m.Guest)
	}
	m.Guest = path.Clean(m.Guest)
	if m.Guest == "/" {
		return Mapping{}, fmt.Errorf("--file %q: cannot replace the image's root; map to a directory such as /data", s)
	}
	return m, nil
}

// Options describe one bake.
type Options struct {
	Program string // host path of the executable
	Files   []Mapping
	MemSize uint64
	Env     []string
	Output  string
	Runtime []byte // the guest runtime ELF
	Creator string
	Links   []string // guest paths made symlinks to the program (applets)
	Libs    []string // libraries the program loads with dlopen (--lib)
}

// DefaultEnv is given to a program when the baker sets no PATH.
var DefaultEnv = []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/"}

// Result is what a bake wrote.
type Result struct {
	Manifest *image.Manifest
	// Added lists what bake added for the dynamic ELF files: interpreters,
	// libraries, their symlinks and the loader's configuration, in the
	// order found.
	Added []Added
}

// Bake writes the image.
func Bake(o Options) (*Result, error) {
	if o.Program == "" {
		return nil, errNoProgram
	}
	if err := CheckProgram(o.Program); err != nil {
		return nil, err
	}
	for _, e := range o.Env {
		if err := image.CheckEnv(e); err != nil {
			return nil, fmt.Errorf("--env %w", err)
		}
	}
	entries := map[string]*pending{}
	name := filepath.Base(o.Program)
	progPath := "/bin/" + name
	for _, m := range o.Files {
		if err := addTree(entries, m); err != nil {
			return nil, err
		}
	}
	if e, ok := entries[progPath]; ok {
		return nil, fmt.Errorf("%s puts a %s at %s, where the program goes: choose another guest path", e.arg, e.e.Type, progPath)
	}
	st, err := os.Stat(o.Program)
	if err != nil {
		return nil, err
	}
	entries[progPath] = &pending{e: image.Entry{Path: progPath, Type: image.TypeFile, Mode: 0o755, MTime: st.ModTime().Unix()},
		host: o.Program, arg: "the program " + o.Program}
	for _, l := range o.Links {
		if !image.ValidPath(l) || l == "/" {
			return nil, fmt.Errorf("--link %q: want an absolute guest path such as /bin/sh", l)
		}
		if _, taken := entries[l]; taken {
			continue // a file given with --file wins
		}
		entries[l] = &pending{e: image.Entry{Path: l, Type: image.TypeSymlink, Mode: 0o777, Target: progPath}, arg: "--link " + l}
	}
	addParents(entries)
	if err := checkParents(entries); err != nil {
		return nil, err
	}
	added, err := addDeps(entries, progPath, o.Libs)
	if err != nil {
		return nil, err
	}
	addParents(entries)
	if err := checkParents(entries); err != nil {
		return nil, err
	}

	w, err := image.Create(o.Output)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			w.Abort()
		}
	}()
	if w.M.Runtime, err = w.AddBlob(bytes.NewReader(o.Runtime)); err != nil {
		return nil, err
	}
	for _, p := range sortedPaths(entries) {
		pe := entries[p]
		if pe.e.Type == image.TypeFile {
			f, err := os.Open(pe.host)
			if err != nil {
				return nil, err
			}
			pe.e.Data, err = w.AddBlob(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("copying %s: %w", pe.host, err)
			}
		}
		w.M.Files = append(w.M.Files, pe.e)
	}
	w.M.Program, w.M.Name, w.M.MemSize, w.M.Creator = progPath, name, o.MemSize, o.Creator
	w.M.Env = append([]string(nil), o.Env...)
	if !hasKey(w.M.Env, "PATH") {
		w.M.Env = append(w.M.Env, DefaultEnv...)
	}
	if err := w.Commit(); err != nil {
		return nil, err
	}
	ok = true
	return &Result{Manifest: &w.M, Added: added}, nil
}

type pending struct {
	e    image.Entry
	host string
	arg  string // what put it there: "--file HOST:GUEST", "--link PATH", the program
}

func hasKey(env []string, k string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, k+"=") {
			return true
		}
	}
	return false
}

// addTree adds a host file or directory (recursively, symlinks kept as
// symlinks: they resolve inside the image at run time) under m.Guest.
func addTree(entries map[string]*pending, m Mapping) error {
	arg := fmt.Sprintf("--file %s:%s", m.Host, m.Guest)
	st, err := os.Lstat(m.Host)
	if err != nil {
		return fmt.Errorf("%s: %w", arg, err)
	}
	if !st.IsDir() {
		return addOne(entries, m.Host, m.Guest, st, arg)
	}
	return filepath.WalkDir(m.Host, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("--file %s: %w", m.Host, err)
		}
		rel, _ := filepath.Rel(m.Host, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		return addOne(entries, p, path.Join(m.Guest, filepath.ToSlash(rel)), info, arg)
	})
}

func addOne(entries map[string]*pending, host, guest string, st fs.FileInfo, arg string) error {
	prev, dup := entries[guest]
	if dup && (prev.e.Type != image.TypeDir || !st.IsDir()) {
		return fmt.Errorf("%s and %s both put something at %s: give them different guest paths", prev.arg, arg, guest)
	}
	e := image.Entry{Path: guest, Mode: uint32(st.Mode().Perm()), MTime: st.ModTime().Unix()}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		t, err := os.Readlink(host)
		if err != nil {
			return err
		}
		e.Type, e.Target = image.TypeSymlink, t
	case st.IsDir():
		e.Type = image.TypeDir
	case st.Mode().IsRegular():
		e.Type = image.TypeFile
	default:
		return fmt.Errorf("--file %s: %s is not a regular file, directory or symlink", host, host)
	}
	entries[guest] = &pending{e: e, host: host, arg: arg}
	return nil
}

// addParents creates the directories that mapped paths need, each on behalf
// of the argument that needs it.
func addParents(entries map[string]*pending) {
	for p, pe := range entries {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = &pending{e: image.Entry{Path: d, Type: image.TypeDir, Mode: 0o755}, arg: pe.arg}
			}
		}
	}
}

// sortedPaths lists the guest paths in order: parents before their children.
func sortedPaths(entries map[string]*pending) []string {
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// checkParents finds a path whose parent is not a directory and names the
// two arguments that conflict: the one that put something else there and
// the one that needs a directory.
func checkParents(entries map[string]*pending) error {
	for _, p := range sortedPaths(entries) {
		d := path.Dir(p)
		if parent, ok := entries[d]; ok && parent.e.Type != image.TypeDir {
			return fmt.Errorf("%s puts a %s at %s, where %s needs a directory (for %s): give one of them another guest path",
				parent.arg, parent.e.Type, d, entries[p].arg, p)
		}
	}
	return nil
}
