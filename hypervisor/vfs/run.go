// A run's tree: the layer, /tmp, /run, /dev/shm and the volumes, in one budget.

package vfs

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// VolumeSpec is a host directory to mount (ukfork run --volume).
type VolumeSpec struct {
	Host, Guest string
	ReadOnly    bool
}

// ParseVolume parses HOSTDIR:GUESTDIR[:ro] as Docker does, checking what
// can be checked before the run: both paths absolute, the host one a
// directory.
func ParseVolume(s string) (VolumeSpec, error) {
	parts := strings.Split(s, ":")
	var v VolumeSpec
	switch {
	case len(parts) == 3 && parts[2] == "ro":
		v.ReadOnly = true
	case len(parts) == 3 && parts[2] == "rw":
	case len(parts) == 2:
	default:
		return v, fmt.Errorf("--volume %s: give HOSTDIR:GUESTDIR or HOSTDIR:GUESTDIR:ro", s)
	}
	v.Host, v.Guest = parts[0], parts[1]
	switch {
	case v.Host == "" || v.Guest == "":
		return v, fmt.Errorf("--volume %s: give HOSTDIR:GUESTDIR or HOSTDIR:GUESTDIR:ro", s)
	case !path.IsAbs(v.Guest):
		return v, fmt.Errorf("--volume %s: the guest path %s must be absolute", s, v.Guest)
	case path.Clean(v.Guest) == "/":
		return v, fmt.Errorf("--volume %s: a volume cannot cover the guest's root", s)
	case !path.IsAbs(v.Host):
		return v, fmt.Errorf("--volume %s: the host path %s must be absolute", s, v.Host)
	}
	v.Guest = path.Clean(v.Guest)
	return v, nil
}

// RunConfig is what a run's tree is made of.
type RunConfig struct {
	Image   *FS
	Space   int64 // bytes the run's memory files may hold; 0: DefaultSpace
	Volumes []VolumeSpec
	Budget  *Budget // counts volumes' open files; nil: DefaultBudget
}

// Run is a run's tree: its namespace and what to free at its end.
type Run struct {
	NS      *Namespace
	Space   *Space
	Pts     *Devpts
	volumes []*Volume
}

// Device numbers of the run's own filesystems.
const (
	devLayer = 0x75
	devTmpfs = 0x76 // and up, one per memory mount
	devPts   = 0x16
	devMemfd = 0x7f
)

// memMounts are the memory-backed directories every run has.
var memMounts = []struct {
	path string
	mode uint32
}{{"/tmp", 0o1777}, {"/run", 0o755}, {"/dev/shm", 0o1777}}

// NewRun makes a run's tree: the image under a memory layer, /tmp, /run
// and /dev/shm in memory, and the volumes, all bounded by one Space.
func NewRun(c RunConfig) (*Run, error) {
	if c.Space <= 0 {
		c.Space = DefaultSpace
	}
	if c.Budget == nil {
		c.Budget = DefaultBudget()
	}
	sp := NewSpace(c.Space)
	r := &Run{NS: NewNamespace(NewLayer(c.Image, sp, devLayer)), Space: sp}
	for i, m := range memMounts {
		if err := r.NS.Mount(m.path, NewTmpfs(sp, devTmpfs+uint64(i), m.mode), false); err != nil {
			return nil, err
		}
	}
	r.NS.Memfd = NewTmpfs(sp, devMemfd, 0o1777)
	if err := r.mountDevpts(c.Budget); err != nil {
		return nil, err
	}
	// Shallower first, so a volume may sit inside /tmp or another volume's
	// parent.
	vols := append([]VolumeSpec(nil), c.Volumes...)
	sort.SliceStable(vols, func(i, j int) bool { return strings.Count(vols[i].Guest, "/") < strings.Count(vols[j].Guest, "/") })
	for _, v := range vols {
		vol, err := NewVolume(v.Host, c.Budget)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("--volume %s:%s: %w", v.Host, v.Guest, err)
		}
		r.volumes = append(r.volumes, vol)
		if err := r.NS.Mount(v.Guest, vol, v.ReadOnly); err != nil {
			r.Close()
			return nil, fmt.Errorf("--volume %s:%s: %w", v.Host, v.Guest, err)
		}
	}
	return r, nil
}

// Close frees what the run's tree holds on the host.
func (r *Run) Close() {
	if r.Pts != nil {
		r.Pts.Close()
	}
	for _, v := range r.volumes {
		v.Close()
	}
	r.volumes = nil
}

// mountDevpts gives the run its terminals as a Linux system with devpts
// has them: /dev/pts, /dev/ptmx (a link to pts/ptmx, as containers make
// it) and /dev/tty.
func (r *Run) mountDevpts(b *Budget) error {
	r.Pts = NewDevpts(b, devPts)
	if err := r.NS.Mount("/dev/pts", r.Pts, false); err != nil {
		return err
	}
	dev, e := r.NS.MkdirAll("/dev")
	if e != 0 {
		return fmt.Errorf("making /dev: %w", e)
	}
	for _, name := range []string{"ptmx", "tty"} {
		if e := r.NS.Unlink(Root, dev, name, false); e != 0 && e != unix.ENOENT {
			return fmt.Errorf("making /dev/%s: %w", name, e)
		}
	}
	if e := r.NS.Symlink(Root, "pts/ptmx", dev, "ptmx"); e != 0 {
		return fmt.Errorf("making /dev/ptmx: %w", e)
	}
	if e := r.NS.Mknod(Root, dev, "tty", unix.S_IFCHR|0o666, devTTY); e != 0 {
		return fmt.Errorf("making /dev/tty: %w", e)
	}
	return nil
}
