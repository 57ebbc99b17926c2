// Credentials and Linux's permission rules (fs/namei.c, fs/attr.c).

package vfs

import (
	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Cred is who a file operation is done for: the guest's file-system ids
// and supplementary groups (kept by the guest, libc-shim/sys_cred.c).
// uid 0 holds every capability, as root without user namespaces.
type Cred struct {
	UID, GID uint32
	Groups   []uint32
	Pid      int32 // who asks, for what depends on it (/proc/self); 0: ukfork itself
}

// Root is the credential of ukfork's own set-up work.
var Root = &Cred{}

// InGroup reports whether gid is c's or one of its groups.
func (c *Cred) InGroup(gid uint32) bool {
	if c.GID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// Permission masks, as MAY_READ, MAY_WRITE, MAY_EXEC.
const (
	mayExec  = 1
	mayWrite = 2
	mayRead  = 4
)

// permission checks access mask to a file of attributes st, as Linux's
// generic_permission: owner, group or other bits; root may read and write
// anything and execute what has an x bit somewhere (search any directory).
func permission(c *Cred, st *abi.Stat, mask uint32) unix.Errno {
	if c.UID == 0 {
		if mask&mayExec != 0 && !isDir(st) && st.Mode&0o111 == 0 {
			return unix.EACCES
		}
		return 0
	}
	mode := st.Mode
	switch {
	case c.UID == st.Uid:
		mode >>= 6
	case c.InGroup(st.Gid):
		mode >>= 3
	}
	if mode&mask&7 != mask {
		return unix.EACCES
	}
	return 0
}

// owns reports whether c may change what only a file's owner may
// (inode_owner_or_capable).
func (c *Cred) owns(st *abi.Stat) bool { return c.UID == 0 || c.UID == st.Uid }

// mayDelete checks that c may remove or rename away victim from dir (its
// attributes dst): write and search on dir, and the sticky bit's rule.
func mayDelete(c *Cred, dst, victim *abi.Stat) unix.Errno {
	if e := permission(c, dst, mayWrite|mayExec); e != 0 {
		return e
	}
	if dst.Mode&unix.S_ISVTX != 0 && c.UID != 0 && c.UID != dst.Uid && c.UID != victim.Uid {
		return unix.EPERM
	}
	return 0
}

// chownAllowed applies chown(2)'s rules: root changes anything; the owner
// may change the group to one of its own, and "change" the uid to itself.
func chownAllowed(c *Cred, st *abi.Stat, a *SetAttr) unix.Errno {
	if c.UID == 0 {
		return 0
	}
	if a.SetUID && a.UID != st.Uid {
		return unix.EPERM
	}
	if a.SetGID && a.GID != st.Gid && (c.UID != st.Uid || !c.InGroup(a.GID)) {
		return unix.EPERM
	}
	if c.UID != st.Uid {
		return unix.EPERM
	}
	return 0
}
