package instance

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/vfs"
)

// User is who the program runs as (--user USER[:GROUP]): each part a
// number or a name the image's /etc/passwd or /etc/group has, resolved as
// Docker does: a user's primary group and the groups that list it come
// from the image; a uid the image does not name runs with gid 0.
type User struct {
	User, Group string // Group "": the user's own
}

// ParseUser reads --user USER[:GROUP]: each part a number from 0 to
// 4294967294 or a name (not starting with a digit), resolved against the
// image when the run starts.
func ParseUser(s string) (*User, error) {
	us, gs, hasG := strings.Cut(s, ":")
	ok := func(v string) bool {
		if _, isID := numericID(v); isID {
			return true
		}
		return v != "" && (v[0] < '0' || v[0] > '9') && !strings.ContainsAny(v, ":\n")
	}
	if !ok(us) || hasG && !ok(gs) {
		return nil, fmt.Errorf("--user %q: want USER[:GROUP], each a name the image has or a number from 0 to 4294967294", s)
	}
	return &User{User: us, Group: gs}, nil
}

// passwdEntry is one line of /etc/passwd or /etc/group: name, id, and
// for a group its members.
type passwdEntry struct {
	name    string
	id, gid uint32 // gid: a user's primary group
	members []string
}

// maxAccountFile bounds what is read of the image's /etc/passwd and
// /etc/group: they are the image's, untrusted.
const maxAccountFile = 4 << 20

// accounts parses the image's file at p (passwd: true for /etc/passwd);
// a missing file is empty, a malformed line skipped, as getpwnam does.
func accounts(fs *vfs.FS, p string, passwd bool) []passwdEntry {
	b, e := fs.ReadFile(p, maxAccountFile)
	if e != 0 {
		return nil
	}
	var out []passwdEntry
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 4 || f[0] == "" || (passwd && len(f) < 7) {
			continue
		}
		id, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		ent := passwdEntry{name: f[0], id: uint32(id)}
		if passwd {
			g, err := strconv.ParseUint(f[3], 10, 32)
			if err != nil {
				continue
			}
			ent.gid = uint32(g)
		} else if f[3] != "" {
			ent.members = strings.Split(f[3], ",")
		}
		out = append(out, ent)
	}
	return out
}

// numericID is s as an id, if it is one (4294967295 is no id: -1).
func numericID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil && n != 1<<32-1
}

// resolve gives u's ids and supplementary groups from the image.
func (u *User) resolve(fs *vfs.FS) (uid, gid uint32, groups []uint32, err error) {
	users := accounts(fs, "/etc/passwd", true)
	var who *passwdEntry
	if n, ok := numericID(u.User); ok {
		uid = n
		for i := range users {
			if users[i].id == n {
				who = &users[i]
				break
			}
		}
	} else {
		for i := range users {
			if users[i].name == u.User {
				who = &users[i]
				break
			}
		}
		if who == nil {
			return 0, 0, nil, fmt.Errorf("--user %s: the image's /etc/passwd has no user %q: give a uid, or bake the image with its /etc/passwd (--file)", u.User, u.User)
		}
		uid = who.id
	}
	if who != nil {
		gid = who.gid
	}
	grps := accounts(fs, "/etc/group", false)
	if u.Group != "" {
		if n, ok := numericID(u.Group); ok {
			gid = n
		} else {
			found := false
			for _, g := range grps {
				if g.name == u.Group {
					gid, found = g.id, true
					break
				}
			}
			if !found {
				return 0, 0, nil, fmt.Errorf("--user %s:%s: the image's /etc/group has no group %q: give a gid, or bake the image with its /etc/group (--file)", u.User, u.Group, u.Group)
			}
		}
	}
	if who != nil {
		for _, g := range grps {
			for _, m := range g.members {
				if m == who.name && g.id != gid {
					groups = append(groups, g.id)
					break
				}
			}
		}
	}
	if len(groups) > abi.NgroupsBoot {
		return 0, 0, nil, fmt.Errorf("--user %s: the image puts it in %d groups; a guest holds at most %d: give UID:GID", u.User, len(groups), abi.NgroupsBoot)
	}
	return uid, gid, groups, nil
}

// credentials are the ids and groups the program starts with: u's, or
// ukfork's own.
func credentials(u *User, fs *vfs.FS) (uid, gid uint32, groups []uint32, err error) {
	if u != nil {
		return u.resolve(fs)
	}
	gs, err := os.Getgroups()
	if err != nil {
		return 0, 0, nil, fmt.Errorf("supplementary groups: %w", err)
	}
	if len(gs) > abi.NgroupsBoot {
		return 0, 0, nil, fmt.Errorf("you are in %d groups; a guest holds at most %d: run with --user UID[:GID]", len(gs), abi.NgroupsBoot)
	}
	for _, g := range gs {
		groups = append(groups, uint32(g))
	}
	return uint32(os.Getuid()), uint32(os.Getgid()), groups, nil
}
