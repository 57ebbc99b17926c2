package image

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Writer builds an image file: blobs first, manifest last, then the header.
// It writes to a temporary file renamed into place by Commit, so a failed
// bake never leaves a half image behind.
type Writer struct {
	dst string
	f   *os.File
	off uint64
	M   Manifest
}

// Create starts an image at dst.
func Create(dst string) (*Writer, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return nil, err
	}
	w := &Writer{dst: dst, f: f, off: blobAlign}
	w.M.Version = Version
	return w, nil
}

// AddBlob copies r into the image and returns where it is.
func (w *Writer) AddBlob(r io.Reader) (Blob, error) {
	w.off = (w.off + blobAlign - 1) &^ (blobAlign - 1)
	n, err := io.Copy(io.NewOffsetWriter(w.f, int64(w.off)), r)
	if err != nil {
		return Blob{}, err
	}
	b := Blob{Off: w.off, Size: uint64(n)}
	w.off += uint64(n)
	return b, nil
}

// Commit writes the manifest and header and moves the image into place.
func (w *Writer) Commit() error {
	js, err := json.MarshalIndent(&w.M, "", " ")
	if err != nil {
		return err
	}
	if err := w.M.check(w.off); err != nil {
		return fmt.Errorf("the image would be invalid: %w", err)
	}
	// The manifest starts on a page of its own: a blob's last page reads
	// zero past its end, so guests can map it as a file.
	w.off = (w.off + blobAlign - 1) &^ (blobAlign - 1)
	h := header{Version: Version, ManifestOff: w.off, ManifestLen: uint64(len(js))}
	copy(h.Magic[:], Magic)
	if _, err := w.f.WriteAt(js, int64(w.off)); err != nil {
		return err
	}
	if err := binary.Write(io.NewOffsetWriter(w.f, 0), binary.LittleEndian, &h); err != nil {
		return err
	}
	if err := w.f.Chmod(0o644); err != nil {
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	return os.Rename(w.f.Name(), w.dst)
}

// Abort removes the unfinished image.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}
