// Package image defines the ukfork image: one file holding the guest runtime,
// the program, a read-only file tree and a manifest, read by `ukfork run`.
//
// Layout: a 64-byte header, then file data (each blob 4 KiB aligned, so a
// later version can map it), then the JSON manifest that indexes it all.
package image

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Magic starts every image; Version is bumped on any incompatible change.
const (
	Magic      = "UKFORKIM"
	Version    = 1
	headerSize = 64
	blobAlign  = 4096
)

// Limits of the format: what a hostile or corrupt image can make a reader
// allocate, all checked before anything is allocated.
const (
	// MaxRuntime bounds the runtime blob: the runtime is loaded into the
	// 3 MiB below abi.UserMin, and its stripped ELF file is ~60 KiB.
	MaxRuntime = 8 << 20
	// maxManifest bounds the manifest: ~150 bytes a file, so room for
	// maxFiles and their paths.
	maxManifest = 64 << 20
	// maxFiles bounds the entries of the file tree.
	maxFiles = 1 << 18
	// maxEnv bounds the environment: it must fit the guest's argument
	// area (abi.ArgsMax) beside argv.
	maxEnv      = 4096
	maxEnvBytes = abi.ArgsMax / 2
	// maxName bounds argv[0], a file name.
	maxName = 255
)

// File types in a manifest.
const (
	TypeFile    = "file"
	TypeDir     = "dir"
	TypeSymlink = "symlink"
)

// header is the fixed start of an image, little-endian.
type header struct {
	Magic       [8]byte
	Version     uint32
	Flags       uint32
	ManifestOff uint64
	ManifestLen uint64
	_           [24]byte
}

// Blob is a byte range of the image file.
type Blob struct {
	Off  uint64 `json:"off"`
	Size uint64 `json:"size"`
}

// Entry is one node of the image's file tree.
type Entry struct {
	Path   string `json:"path"` // absolute, clean
	Type   string `json:"type"`
	Mode   uint32 `json:"mode"` // permission bits
	MTime  int64  `json:"mtime"`
	Data   Blob   `json:"data,omitzero"`
	Target string `json:"target,omitempty"` // symlinks
}

// Manifest describes an image.
type Manifest struct {
	Version int    `json:"version"`
	Creator string `json:"creator"`
	Program string `json:"program"` // path in the tree of the program to run
	Name    string `json:"name"`    // argv[0]
	MemSize uint64 `json:"mem_size"`
	Env     Env    `json:"env"`
	Runtime Blob   `json:"runtime"`
	Files   Files  `json:"files"`
}

// Env is the program's environment, KEY=VALUE each; at most maxEnv of them
// are decoded.
type Env []string

// Files is the file tree, parents first; at most maxFiles are decoded.
type Files []Entry

// UnmarshalJSON decodes at most maxEnv strings.
func (e *Env) UnmarshalJSON(b []byte) (err error) {
	*e, err = decodeList[string](b, maxEnv, "environment variables")
	return err
}

// UnmarshalJSON decodes at most maxFiles entries.
func (f *Files) UnmarshalJSON(b []byte) (err error) {
	*f, err = decodeList[Entry](b, maxFiles, "files")
	return err
}

func tooMany(max int, what string) error {
	return fmt.Errorf("more than %d %s, the most an image may hold", max, what)
}

// decodeList decodes a JSON array (or null) one element at a time, refusing
// more than max elements before allocating them.
func decodeList[T any](b []byte, max int, what string) ([]T, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	tok, err := d.Token()
	if err != nil || tok == nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("%s: want a list", what)
	}
	var out []T
	for d.More() {
		if len(out) == max {
			return nil, tooMany(max, what)
		}
		var v T
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Image is an open image file.
type Image struct {
	Path     string
	File     *os.File
	Size     int64
	Manifest Manifest
}

// ErrFormat marks images that are not valid; its text says what to do.
var ErrFormat = errors.New("not a valid ukfork image")

func formatErr(p, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", p, ErrFormat, fmt.Sprintf(format, args...))
}

// Open reads and checks an image's header and manifest.
func Open(p string) (*Image, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	img, err := read(p, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return img, nil
}

func read(p string, f *os.File) (*Image, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, formatErr(p, "is a directory; give the image file made by `ukfork bake`")
	}
	var h header
	if err := binary.Read(io.NewSectionReader(f, 0, headerSize), binary.LittleEndian, &h); err != nil {
		return nil, formatErr(p, "too short for an image header (%d bytes); make one with `ukfork bake`", st.Size())
	}
	if string(h.Magic[:]) != Magic {
		if string(h.Magic[:4]) == "\x7fELF" {
			return nil, formatErr(p, "is an ELF executable, not an image; bake it first: ukfork bake -o prog.img %s", p)
		}
		return nil, formatErr(p, "bad magic; make an image with `ukfork bake`")
	}
	if h.Version != Version {
		return nil, formatErr(p, "image version %d, this ukfork reads version %d; rebake it with this ukfork", h.Version, Version)
	}
	size := uint64(st.Size())
	if h.ManifestLen == 0 || h.ManifestOff < headerSize || h.ManifestOff > size || h.ManifestLen > size-h.ManifestOff {
		return nil, formatErr(p, "truncated or corrupt (manifest at %d+%d, file is %d bytes); rebake it", h.ManifestOff, h.ManifestLen, size)
	}
	if h.ManifestLen > maxManifest {
		return nil, formatErr(p, "manifest of %d bytes, more than the %d MiB an image may have; rebake it", h.ManifestLen, maxManifest>>20)
	}
	buf := make([]byte, h.ManifestLen)
	if _, err := f.ReadAt(buf, int64(h.ManifestOff)); err != nil {
		return nil, formatErr(p, "reading manifest: %v", err)
	}
	img := &Image{Path: p, File: f, Size: st.Size()}
	if err := json.Unmarshal(buf, &img.Manifest); err != nil {
		return nil, formatErr(p, "corrupt manifest: %v; rebake it", err)
	}
	if err := img.Manifest.check(h.ManifestOff); err != nil {
		return nil, formatErr(p, "%v; rebake it", err)
	}
	return img, nil
}

// Close closes the image file.
func (img *Image) Close() error { return img.File.Close() }

// Runtime returns the guest runtime stored in the image.
func (img *Image) Runtime() ([]byte, error) {
	b := make([]byte, img.Manifest.Runtime.Size)
	if _, err := img.File.ReadAt(b, int64(img.Manifest.Runtime.Off)); err != nil {
		return nil, fmt.Errorf("%s: reading runtime: %w", img.Path, err)
	}
	return b, nil
}

// check validates a manifest whose blobs end by dataEnd (where the
// manifest starts): every blob aligned between the header and the manifest,
// every size within the format's limits, every path absolute and clean,
// parents present, no duplicates.
func (m *Manifest) check(dataEnd uint64) error {
	if m.Version != Version {
		return fmt.Errorf("manifest version %d, want %d", m.Version, Version)
	}
	if m.Runtime.Size == 0 {
		return fmt.Errorf("no runtime")
	}
	if m.Runtime.Size > MaxRuntime {
		return fmt.Errorf("runtime of %d bytes, more than the %d MiB a runtime may have", m.Runtime.Size, MaxRuntime>>20)
	}
	if err := m.Runtime.check(dataEnd); err != nil {
		return fmt.Errorf("runtime: %v", err)
	}
	if m.Name == "" || len(m.Name) > maxName || strings.ContainsAny(m.Name, "/\x00") {
		return fmt.Errorf("program name %.40q: want a file name of 1 to %d bytes", m.Name, maxName)
	}
	if !ValidMemSize(m.MemSize) {
		return fmt.Errorf("memory size %d: want a multiple of 2 MiB between %d MiB and %d GiB", m.MemSize, abi.MemMin>>20, uint64(abi.MemMax)>>30)
	}
	if len(m.Env) > maxEnv {
		return tooMany(maxEnv, "environment variables")
	}
	if len(m.Files) > maxFiles {
		return tooMany(maxFiles, "files")
	}
	envBytes := 0
	for _, e := range m.Env {
		if err := CheckEnv(e); err != nil {
			return fmt.Errorf("environment: %v", err)
		}
		envBytes += len(e) + 1
	}
	if envBytes > maxEnvBytes {
		return fmt.Errorf("environment of %d bytes, more than the %d KiB an image may have", envBytes, maxEnvBytes>>10)
	}
	seen := make(map[string]string, len(m.Files))
	seen["/"] = TypeDir
	for _, e := range m.Files {
		if !ValidPath(e.Path) || e.Path == "/" {
			return fmt.Errorf("bad file path %q", e.Path)
		}
		if _, dup := seen[e.Path]; dup {
			return fmt.Errorf("file %q listed twice", e.Path)
		}
		if seen[path.Dir(e.Path)] != TypeDir {
			return fmt.Errorf("file %q comes before its directory", e.Path)
		}
		switch e.Type {
		case TypeFile:
			if err := e.Data.check(dataEnd); err != nil {
				return fmt.Errorf("file %q: %v", e.Path, err)
			}
		case TypeDir:
		case TypeSymlink:
			if e.Target == "" || len(e.Target) >= 4096 || strings.IndexByte(e.Target, 0) >= 0 {
				return fmt.Errorf("symlink %q: bad target", e.Path)
			}
		default:
			return fmt.Errorf("file %q: unknown type %q", e.Path, e.Type)
		}
		seen[e.Path] = e.Type
	}
	if seen[m.Program] != TypeFile {
		return fmt.Errorf("program %q is not a file in the image", m.Program)
	}
	return nil
}

// check validates a blob: 4 KiB aligned after the header, ending by dataEnd.
func (b Blob) check(dataEnd uint64) error {
	if b.Off > dataEnd || b.Size > dataEnd-b.Off {
		return fmt.Errorf("data at %d+%d beyond the end of the image's data (%d bytes; truncated?)", b.Off, b.Size, dataEnd)
	}
	if b.Off < blobAlign || b.Off%blobAlign != 0 {
		return fmt.Errorf("data at %d not 4 KiB aligned after the header", b.Off)
	}
	return nil
}

// ValidMemSize reports whether size is a guest memory size ukfork can run:
// a multiple of 2 MiB between abi.MemMin and abi.MemMax.
func ValidMemSize(size uint64) bool {
	return size >= abi.MemMin && size <= abi.MemMax && size%(2<<20) == 0
}

// CheckEnv checks one environment entry: KEY=VALUE, KEY not empty, no NUL.
func CheckEnv(e string) error {
	if k, _, ok := strings.Cut(e, "="); !ok || k == "" || strings.IndexByte(e, 0) >= 0 {
		return fmt.Errorf("%.40q: want KEY=VALUE, e.g. LANG=C", e)
	}
	return nil
}

// ValidPath reports whether p is an absolute, clean path without NUL bytes.
func ValidPath(p string) bool {
	return strings.HasPrefix(p, "/") && path.Clean(p) == p && strings.IndexByte(p, 0) < 0 && len(p) < 4096
}
