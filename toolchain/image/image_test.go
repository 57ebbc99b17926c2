package image_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ukfork/ukfork/toolchain/image"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "prog.img")
	w, err := image.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	runtime := bytes.Repeat([]byte("RT"), 3000) // 6000 bytes: the next blob is realigned
	prog := []byte("\x7fELF program")
	data := []byte("hello\n")
	rb, err := w.AddBlob(bytes.NewReader(runtime))
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := w.AddBlob(bytes.NewReader(prog))
	db, _ := w.AddBlob(bytes.NewReader(data))
	eb, _ := w.AddBlob(bytes.NewReader(nil))
	w.M.Creator = "test"
	w.M.Program = "/bin/prog"
	w.M.Name = "prog"
	w.M.MemSize = 64 << 20
	w.M.Env = []string{"PATH=/bin", "HOME=/"}
	w.M.Runtime = rb
	w.M.Files = []image.Entry{
		{Path: "/bin", Type: image.TypeDir, Mode: 0o755, MTime: 1},
		{Path: "/bin/prog", Type: image.TypeFile, Mode: 0o755, MTime: 2, Data: pb},
		{Path: "/etc", Type: image.TypeDir, Mode: 0o755},
		{Path: "/etc/motd", Type: image.TypeFile, Mode: 0o644, Data: db},
		{Path: "/etc/empty", Type: image.TypeFile, Mode: 0o600, Data: eb},
		{Path: "/bin/sh", Type: image.TypeSymlink, Mode: 0o777, Target: "prog"},
	}
	want := w.M
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, b := range []image.Blob{rb, pb, db} {
		if b.Off%4096 != 0 || b.Off < 64 {
			t.Errorf("blob %+v not 4 KiB aligned after the header", b)
		}
	}
	if pb.Off < rb.Off+rb.Size || db.Off < pb.Off+pb.Size {
		t.Errorf("blobs overlap: %+v %+v %+v", rb, pb, db)
	}

	img, err := image.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if want.Version != image.Version || !reflect.DeepEqual(img.Manifest, want) {
		t.Errorf("manifest\n got %+v\nwant %+v", img.Manifest, want)
	}
	st, _ := os.Stat(dst)
	if img.Size != st.Size() || img.Path != dst {
		t.Errorf("Size %d Path %q, want %d %q", img.Size, img.Path, st.Size(), dst)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode())
	}
	got, err := img.Runtime()
	if err != nil || !bytes.Equal(got, runtime) {
		t.Errorf("Runtime() = %d bytes %v, want %d", len(got), err, len(runtime))
	}
	for _, c := range []struct {
		b    image.Blob
		want []byte
	}{{pb, prog}, {db, data}, {eb, nil}} {
		buf := make([]byte, c.b.Size)
		if _, err := img.File.ReadAt(buf, int64(c.b.Off)); err != nil || !bytes.Equal(buf, c.want) {
			t.Errorf("blob %+v = %q %v, want %q", c.b, buf, err, c.want)
		}
	}
	// Only the image: no temporary left behind.
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %v", ents)
	}
}

func TestAbort(t *testing.T) {
	for _, commit := range []bool{false, true} {
		dir := t.TempDir()
		dst := filepath.Join(dir, "x.img")
		w, err := image.Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		w.AddBlob(strings.NewReader("data"))
		if commit {
			// Invalid (no runtime, no program): Commit refuses, then Abort.
			if err := w.Commit(); err == nil {
				t.Fatal("Commit of an invalid manifest succeeded")
			}
		}
		w.Abort()
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("commit=%v: Abort left %v", commit, ents)
		}
	}
}

// Raw images, written byte by byte: a 64-byte header (magic, version, flags,
// manifest offset and length, little-endian), blobs at 4096 and 8192, the
// manifest.
const (
	blobOff  = 4096
	runtimeB = "RUNTIME!"
	progB    = "PROGRAM"
)

func rawHeader(magic string, version uint32, off, n uint64) []byte {
	h := make([]byte, 64)
	copy(h, magic)
	binary.LittleEndian.PutUint32(h[8:], version)
	binary.LittleEndian.PutUint64(h[16:], off)
	binary.LittleEndian.PutUint64(h[24:], n)
	return h
}

func goodManifest() image.Manifest {
	return image.Manifest{
		Version: image.Version, Program: "/bin/prog", Name: "prog", MemSize: 64 << 20,
		Runtime: image.Blob{Off: blobOff, Size: uint64(len(runtimeB))},
		Files: []image.Entry{
			{Path: "/bin", Type: image.TypeDir, Mode: 0o755},
			{Path: "/bin/prog", Type: image.TypeFile, Mode: 0o755, Data: image.Blob{Off: 2 * blobOff, Size: uint64(len(progB))}},
			{Path: "/bin/sh", Type: image.TypeSymlink, Target: "prog"},
		},
	}
}

// rawImage lays out an image with manifest js (JSON) after the blobs.
func rawImage(js []byte) []byte {
	b := make([]byte, 3*blobOff)
	copy(b[blobOff:], runtimeB)
	copy(b[2*blobOff:], progB)
	b = b[:2*blobOff+len(progB)]
	off := uint64(len(b))
	b = append(b, js...)
	copy(b, rawHeader(image.Magic, image.Version, off, uint64(len(js))))
	return b
}

func withManifest(edit func(m *image.Manifest)) []byte {
	m := goodManifest()
	edit(&m)
	js, err := json.Marshal(&m)
	if err != nil {
		panic(err)
	}
	return rawImage(js)
}

func withHeader(edit func(h []byte, size int)) []byte {
	b := withManifest(func(*image.Manifest) {})
	edit(b[:64], len(b))
	return b
}

func TestOpenCorrupt(t *testing.T) {
	good := withManifest(func(*image.Manifest) {})
	manOff := int(binary.LittleEndian.Uint64(good[16:]))
	u64 := binary.LittleEndian.PutUint64
	tests := []struct {
		name string
		data []byte
		what string // names the problem
		hint string // says what to do
	}{
		{"empty", nil, "too short", "ukfork bake"},
		{"short header", []byte(image.Magic), "too short", "ukfork bake"},
		{"bad magic", withHeader(func(h []byte, _ int) { copy(h, "NOTANIMG") }), "bad magic", "ukfork bake"},
		{"ELF", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...), "ELF executable", "ukfork bake"},
		{"newer version", withHeader(func(h []byte, _ int) { binary.LittleEndian.PutUint32(h[8:], image.Version+1) }),
			"image version 2", "rebake"},
		{"version 0", withHeader(func(h []byte, _ int) { binary.LittleEndian.PutUint32(h[8:], 0) }), "image version 0", "rebake"},
		{"truncated", good[:manOff+10], "truncated", "rebake"},
		{"truncated in the blobs", good[:blobOff+4], "truncated", "rebake"},
		{"manifest offset past the end", withHeader(func(h []byte, n int) { u64(h[16:], uint64(n)+1) }), "truncated", "rebake"},
		{"manifest length past the end", withHeader(func(h []byte, n int) { u64(h[24:], uint64(n)) }), "truncated", "rebake"},
		{"manifest length wraps", withHeader(func(h []byte, _ int) { u64(h[24:], math.MaxUint64) }), "truncated", "rebake"},
		{"manifest offset wraps", withHeader(func(h []byte, _ int) { u64(h[16:], math.MaxUint64-5) }), "truncated", "rebake"},
		{"empty manifest", withHeader(func(h []byte, _ int) { u64(h[24:], 0) }), "truncated", "rebake"},
		{"invalid JSON", rawImage([]byte(`{"version": 1, "files": [`)), "corrupt manifest", "rebake"},
		{"JSON of the wrong shape", rawImage([]byte(`{"version": "one"}`)), "corrupt manifest", "rebake"},
		{"manifest version", withManifest(func(m *image.Manifest) { m.Version = 2 }), "manifest version 2", "rebake"},
		{"relative path", withManifest(func(m *image.Manifest) { m.Files[0].Path = "bin" }), `bad file path "bin"`, "rebake"},
		{"unclean path", withManifest(func(m *image.Manifest) {
			m.Files = append(m.Files, image.Entry{Path: "/bin/../etc", Type: image.TypeDir})
		}), "bad file path", "rebake"},
		{"root listed", withManifest(func(m *image.Manifest) {
			m.Files = append([]image.Entry{{Path: "/", Type: image.TypeDir}}, m.Files...)
		}), `bad file path "/"`, "rebake"},
		{"duplicate path", withManifest(func(m *image.Manifest) { m.Files = append(m.Files, m.Files[1]) }),
			`"/bin/prog" listed twice`, "rebake"},
		{"file before its directory", withManifest(func(m *image.Manifest) { m.Files[0], m.Files[1] = m.Files[1], m.Files[0] }),
			`"/bin/prog" comes before its directory`, "rebake"},
		{"file under a file", withManifest(func(m *image.Manifest) {
			m.Files = append(m.Files, image.Entry{Path: "/bin/prog/x", Type: image.TypeDir})
		}), `"/bin/prog/x" comes before its directory`, "rebake"},
		{"blob beyond the end", withManifest(func(m *image.Manifest) { m.Files[1].Data.Size = 1 << 20 }), "beyond the end", "rebake"},
		{"blob offset wraps", withManifest(func(m *image.Manifest) { m.Files[1].Data = image.Blob{Off: 8, Size: math.MaxUint64} }),
			"beyond the end", "rebake"},
		{"blob over the manifest", withManifest(func(m *image.Manifest) { m.Files[1].Data.Size = blobOff }), "beyond the end", "rebake"},
		{"blob in the header", withManifest(func(m *image.Manifest) { m.Files[1].Data.Off = 0 }), "not 4 KiB aligned", "rebake"},
		{"blob not aligned", withManifest(func(m *image.Manifest) { m.Files[1].Data.Off = blobOff + 8 }), "not 4 KiB aligned", "rebake"},
		{"manifest in the header", withHeader(func(h []byte, _ int) { u64(h[16:], 8) }), "truncated", "rebake"},
		{"runtime beyond the end", withManifest(func(m *image.Manifest) { m.Runtime.Off = 1 << 30 }), "runtime", "rebake"},
		{"runtime too large", withManifest(func(m *image.Manifest) { m.Runtime.Size = image.MaxRuntime + 1 }), "more than the 8 MiB", "rebake"},
		{"no runtime", withManifest(func(m *image.Manifest) { m.Runtime = image.Blob{} }), "runtime", "rebake"},
		{"no program name", withManifest(func(m *image.Manifest) { m.Name = "" }), "program name", "rebake"},
		{"program name too long", withManifest(func(m *image.Manifest) { m.Name = strings.Repeat("n", 256) }), "program name", "rebake"},
		{"program name with a slash", withManifest(func(m *image.Manifest) { m.Name = "a/b" }), "program name", "rebake"},
		{"memory too large", withManifest(func(m *image.Manifest) { m.MemSize = 64 << 30 }), "memory size", "rebake"},
		{"memory not 2 MiB aligned", withManifest(func(m *image.Manifest) { m.MemSize = 65 << 20 }), "memory size", "rebake"},
		{"env without =", withManifest(func(m *image.Manifest) { m.Env = []string{"NOEQ"} }), "KEY=VALUE", "rebake"},
		{"env too large", withManifest(func(m *image.Manifest) { m.Env = []string{"K=" + strings.Repeat("v", 200<<10)} }),
			"environment of", "rebake"},
		{"env not a list", rawImage([]byte(`{"version": 1, "env": "PATH=/"}`)), "want a list", "rebake"},
		{"unknown type", withManifest(func(m *image.Manifest) { m.Files[2].Type = "fifo" }), `unknown type "fifo"`, "rebake"},
		{"symlink without target", withManifest(func(m *image.Manifest) { m.Files[2].Target = "" }), `symlink "/bin/sh"`, "rebake"},
		{"symlink target with NUL", withManifest(func(m *image.Manifest) { m.Files[2].Target = "a\x00b" }), `symlink "/bin/sh"`, "rebake"},
		{"program missing", withManifest(func(m *image.Manifest) { m.Program = "/bin/nope" }), "not a file", "rebake"},
		{"program is a directory", withManifest(func(m *image.Manifest) { m.Program = "/bin" }), "not a file", "rebake"},
		{"program is a symlink", withManifest(func(m *image.Manifest) { m.Program = "/bin/sh" }), "not a file", "rebake"},
		{"no memory size", withManifest(func(m *image.Manifest) { m.MemSize = 0 }), "memory size", "rebake"},
		{"too many files", withManifest(func(m *image.Manifest) {
			for i := len(m.Files); i <= 1<<18; i++ {
				m.Files = append(m.Files, image.Entry{Path: fmt.Sprintf("/bin/%d", i), Type: image.TypeDir})
			}
		}), "more than 262144 files", "rebake"},
		{"too many env entries", withManifest(func(m *image.Manifest) {
			for i := 0; i <= 4096; i++ {
				m.Env = append(m.Env, "K=")
			}
		}), "more than 4096 environment variables", "rebake"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".img")
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			img, err := image.Open(p)
			if err == nil {
				img.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, image.ErrFormat) {
				t.Errorf("error %q does not wrap ErrFormat", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, p) || !strings.Contains(msg, tc.what) || !strings.Contains(msg, tc.hint) {
				t.Errorf("error %q: want the path, %q and %q", msg, tc.what, tc.hint)
			}
		})
	}
	// The raw layout itself is valid, or the cases above prove nothing.
	p := filepath.Join(dir, "good.img")
	os.WriteFile(p, good, 0o644)
	img, err := image.Open(p)
	if err != nil {
		t.Fatalf("the uncorrupted raw image: %v", err)
	}
	if rt, err := img.Runtime(); err != nil || string(rt) != runtimeB {
		t.Errorf("Runtime() = %q %v", rt, err)
	}
	img.Close()
}

// TestOpenHuge: sizes and offsets of sparse images, which claim more than a
// reader could allocate, are refused by Open before anything is allocated,
// and Runtime reads no more than MaxRuntime.
func TestOpenHuge(t *testing.T) {
	const huge = 64 << 30
	tests := []struct {
		name    string
		runtime image.Blob // of the manifest
		manLen  uint64     // claimed in the header (0: the real length)
		manOff  uint64     // where the manifest is written
		what    string
	}{
		{"runtime of 64 GiB", image.Blob{Off: blobOff, Size: huge}, 0, blobOff + huge, "runtime of 68719476736 bytes, more than the 8 MiB"},
		{"runtime of MaxRuntime+1", image.Blob{Off: blobOff, Size: image.MaxRuntime + 1}, 0, 2*blobOff + image.MaxRuntime, "more than the 8 MiB"},
		{"manifest of 64 GiB", image.Blob{Off: blobOff, Size: 8}, huge, 2 * blobOff, "manifest of 68719476736 bytes"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := goodManifest()
			m.Runtime = tc.runtime
			m.Files = m.Files[:1]
			m.Program = "/bin"
			js, err := json.Marshal(&m)
			must(t, err)
			n := tc.manLen
			if n == 0 {
				n = uint64(len(js))
			}
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".img")
			f, err := os.Create(p)
			must(t, err)
			_, err = f.WriteAt(rawHeader(image.Magic, image.Version, tc.manOff, n), 0)
			must(t, err)
			_, err = f.WriteAt(js, int64(tc.manOff))
			must(t, err)
			must(t, f.Truncate(int64(tc.manOff+max(n, uint64(len(js))))))
			must(t, f.Close())
			img, err := image.Open(p)
			if err == nil {
				img.Close()
				t.Fatal("Open succeeded")
			}
			if msg := err.Error(); !errors.Is(err, image.ErrFormat) || !strings.Contains(msg, p) || !strings.Contains(msg, tc.what) {
				t.Errorf("error %q: want ErrFormat, the path and %q", msg, tc.what)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenNotAFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := image.Open(filepath.Join(dir, "missing.img")); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, image.ErrFormat) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	_, err := image.Open(dir)
	if !errors.Is(err, image.ErrFormat) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v, want ErrFormat saying it is a directory", err)
	}
}

func TestValidPath(t *testing.T) {
	tests := []struct {
		p  string
		ok bool
	}{
		{"/", true}, {"/a", true}, {"/a/b.c", true}, {"/..a", true},
		{"", false}, {"a", false}, {"/a/", false}, {"//a", false}, {"/a/./b", false},
		{"/a/../b", false}, {"/..", false}, {"/a\x00b", false},
		{"/" + strings.Repeat("a", 4094), true}, {"/" + strings.Repeat("a", 4095), false},
	}
	for _, tc := range tests {
		if got := image.ValidPath(tc.p); got != tc.ok {
			t.Errorf("ValidPath(%.20q) = %v, want %v", tc.p, got, tc.ok)
		}
	}
}

// TestCommitLimits: Commit refuses what Open would refuse, saying which
// limit, so bake never writes an image that cannot run.
func TestCommitLimits(t *testing.T) {
	tests := []struct {
		name string
		edit func(m *image.Manifest)
		want string
	}{
		{"too many env entries", func(m *image.Manifest) { m.Env = make(image.Env, 4097) }, "more than 4096 environment variables"},
		{"env too large", func(m *image.Manifest) { m.Env = image.Env{"K=" + strings.Repeat("v", 200<<10)} }, "environment of"},
		{"too many files", func(m *image.Manifest) {
			for i := len(m.Files); i <= 1<<18; i++ {
				m.Files = append(m.Files, image.Entry{Path: fmt.Sprintf("/%d", i), Type: image.TypeDir})
			}
		}, "more than 262144 files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := image.Create(filepath.Join(t.TempDir(), "x.img"))
			must(t, err)
			defer w.Abort()
			rb, _ := w.AddBlob(strings.NewReader(runtimeB))
			pb, _ := w.AddBlob(strings.NewReader(progB))
			w.M = goodManifest()
			w.M.Runtime, w.M.Files[1].Data = rb, pb
			tc.edit(&w.M)
			if err := w.Commit(); err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "internal") {
				t.Errorf("Commit: %v, want %q", err, tc.want)
			}
		})
	}
}
