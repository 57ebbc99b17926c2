package vm

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Image is an image file mapped read-only into the host, to be mapped into
// every guest at abi.ImageGPA as a read-only memory slot: the guest maps a
// file of the image by pointing its page tables there, so all VMs of a run
// (and the host's page cache) hold one copy of a program's text.
type Image struct {
	host []byte
}

// MapImage maps f, which must not change while mapped (images are written
// whole and renamed into place, never rewritten).
func MapImage(f *os.File) (*Image, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := (uint64(st.Size()) + 4095) &^ 4095
	if size == 0 || size > abi.ImageMax {
		return nil, fmt.Errorf("image of %d bytes: at most %d GiB can be mapped", st.Size(), uint64(abi.ImageMax)>>30)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping the image: %w", err)
	}
	return &Image{host: b}, nil
}

// Close unmaps the image; no guest may be using it.
func (i *Image) Close() error {
	if i == nil || i.host == nil {
		return nil
	}
	err := unix.Munmap(i.host)
	i.host = nil
	return err
}
