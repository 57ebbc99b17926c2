// Package image defines the ukfork image: one file holding the guest runtime,
// the program, a read-only file tree and a manifest, read by `ukfork run`.
//
// Layout: a 64-byte header, then file data (each blob 4 KiB aligned, so a
// later version can map it), then the JSON manifest that indexes it all.
package image

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Magic starts every image; Version is bumped on any incompatible change.
const (
	Magic      = "UKFORKIM"
	Version    = 1
	headerSize = 64
	blobAlign  = 4096
	// maxManifest bounds what a hostile or corrupt image can make us read.
	maxManifest = 64 << 20
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
	Version int      `json:"version"`
	Creator string   `json:"creator"`
	Program string   `json:"program"` // path in the tree of the program to run
	Name    string   `json:"name"`    // argv[0]
	MemSize uint64   `json:"mem_size"`
	Env     []string `json:"env"`
	Runtime Blob     `json:"runtime"`
	Files   []Entry  `json:"files"`
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
	if h.ManifestLen == 0 || h.ManifestLen > maxManifest || h.ManifestOff > size || h.ManifestLen > size-h.ManifestOff {
		return nil, formatErr(p, "truncated or corrupt (manifest at %d+%d, file is %d bytes); rebake it", h.ManifestOff, h.ManifestLen, size)
	}
	buf := make([]byte, h.ManifestLen)
	if _, err := f.ReadAt(buf, int64(h.ManifestOff)); err != nil {
		return nil, formatErr(p, "reading manifest: %v", err)
	}
	img := &Image{Path: p, File: f, Size: st.Size()}
	if err := json.Unmarshal(buf, &img.Manifest); err != nil {
		return nil, formatErr(p, "corrupt manifest: %v; rebake it", err)
	}
	if err := img.Manifest.check(size); err != nil {
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

// check validates a manifest against the image size: every blob inside the
// file, every path absolute and clean, parents present, no duplicates.
func (m *Manifest) check(size uint64) error {
	if m.Version != Version {
		return fmt.Errorf("manifest version %d, want %d", m.Version, Version)
	}
	if err := m.Runtime.check(size); err != nil || m.Runtime.Size == 0 {
		return fmt.Errorf("runtime blob out of range")
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
			if err := e.Data.check(size); err != nil {
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
	if m.MemSize == 0 {
		return fmt.Errorf("no memory size")
	}
	return nil
}

func (b Blob) check(size uint64) error {
	if b.Off > size || b.Size > size-b.Off {
		return fmt.Errorf("data at %d+%d beyond the end of the image (%d bytes; truncated?)", b.Off, b.Size, size)
	}
	return nil
}

// ValidPath reports whether p is an absolute, clean path without NUL bytes.
func ValidPath(p string) bool {
	return strings.HasPrefix(p, "/") && path.Clean(p) == p && strings.IndexByte(p, 0) < 0 && len(p) < 4096
}
