// Package control lets other ukfork commands see and signal the processes
// of running programs: each `ukfork run` reserves a block of pids, unique on
// this host, and serves a unix socket named after it in the run directory.
package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// BlockSize pids belong to one run; blocks 1..maxBlocks fit under Linux's
// pid_max, so a pid names its run.
const (
	BlockSize = 4096
	maxBlocks = 1023
)

// Proc is one process as `ukfork ps` shows it.
type Proc struct {
	Pid      int32  `json:"pid"`
	Ppid     int32  `json:"ppid"`
	Pgid     int32  `json:"pgid"`
	State    string `json:"state"`
	Command  string `json:"command"`
	Resident uint64 `json:"resident"`
	HostMem  uint64 `json:"host_mem"` // pipe buffers and rings its descriptors hold
}

// Run is what a running program answers.
type Run struct {
	HostPid int    `json:"host_pid"`
	Image   string `json:"image"`
	Procs   []Proc `json:"procs"`
}

// Kernel is what the server needs from a running program.
type Kernel interface {
	Procs() []Proc
	Kill(pid int32, sig int) error
}

type request struct {
	Op  string `json:"op"`
	Pid int32  `json:"pid,omitempty"`
	Sig int    `json:"sig,omitempty"`
}

type reply struct {
	Run   *Run   `json:"run,omitempty"`
	Error string `json:"error,omitempty"`
}

// Server is a run's control socket.
type Server struct {
	Base int32 // first pid of the block
	// SockDir is the run's private directory for the AF_UNIX sockets its
	// program binds: named after the block, so a run killed before it could
	// remove it leaves it to be reclaimed with the block.
	SockDir string
	path    string
	lock    *os.File
	ln      net.Listener
}

// The files of block b in the control directory: its lock, held by the
// run for its whole life (a crashed run's block comes free by itself), its
// control socket and its socket directory.
func lockPath(dir string, b int) string { return filepath.Join(dir, fmt.Sprintf("%d.lock", b)) }
func sockPath(dir string, b int) string { return filepath.Join(dir, fmt.Sprintf("%d.sock", b)) }
func sockDir(dir string, b int) string  { return filepath.Join(dir, fmt.Sprintf("%d.unix", b)) }

// lockBlock takes block b's lock; nil, and no error, if another run holds it.
func lockBlock(dir string, b int) (*os.File, error) {
	lock, err := os.OpenFile(lockPath(dir, b), os.O_CREATE|os.O_RDWR|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		lock.Close()
		return nil, nil
	}
	return lock, nil
}

// clean removes what a run of block b left behind; its lock held.
func clean(dir string, b int) {
	os.Remove(sockPath(dir, b))
	os.RemoveAll(sockDir(dir, b))
}

// reclaim cleans every block that has leftovers (a socket or a socket
// directory) and whose lock is free: what runs killed with SIGKILL left.
// Blocks with nothing left are not even looked at, so a start costs no
// more for the lock files earlier runs leave. Those stay: removing one
// while another run opens it would let two runs hold the same block.
func reclaim(dir string) {
	socks, _ := filepath.Glob(filepath.Join(dir, "*.sock"))
	dirs, _ := filepath.Glob(filepath.Join(dir, "*.unix"))
	seen := map[int]bool{}
	for _, l := range append(socks, dirs...) {
		name := filepath.Base(l)
		b, err := strconv.Atoi(strings.TrimSuffix(name, filepath.Ext(name)))
		if err != nil || b < 1 || b > maxBlocks || seen[b] {
			continue
		}
		seen[b] = true
		if lock, _ := lockBlock(dir, b); lock != nil {
			clean(dir, b)
			lock.Close()
		}
	}
}

// Reserve takes a free pid block and starts serving k on its socket, after
// reclaiming the blocks of runs that died without cleaning up.
func Reserve(image string, k func() Kernel) (*Server, error) {
	dir, err := openDir(true)
	if err != nil {
		return nil, err
	}
	reclaim(dir)
	for b := 1; b <= maxBlocks; b++ {
		lock, err := lockBlock(dir, b)
		if err != nil {
			return nil, err
		}
		if lock == nil {
			continue
		}
		clean(dir, b) // a run that died after reclaim looked
		s := &Server{Base: int32(b * BlockSize), SockDir: sockDir(dir, b), lock: lock, path: sockPath(dir, b)}
		ln, err := net.Listen("unix", s.path)
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("control: %w", err)
		}
		s.ln = ln
		go s.serve(image, k)
		return s, nil
	}
	return nil, errors.New("control: every pid block is taken: too many ukfork runs on this host")
}

// Close stops serving and frees the block. The socket directory is the
// program's to remove (it removes it when it ends).
func (s *Server) Close() {
	s.ln.Close()
	os.Remove(s.path)
	s.lock.Close()
}

func (s *Server) serve(image string, k func() Kernel) {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			var req request
			if json.NewDecoder(c).Decode(&req) != nil {
				return
			}
			var rep reply
			switch req.Op {
			case "ps":
				rep.Run = &Run{HostPid: os.Getpid(), Image: image, Procs: k().Procs()}
			case "kill":
				if err := k().Kill(req.Pid, req.Sig); err != nil {
					rep.Error = err.Error()
				}
			default:
				rep.Error = "unknown request " + strconv.Quote(req.Op)
			}
			json.NewEncoder(c).Encode(&rep)
		}()
	}
}

func ask(path string, req request) (*reply, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := json.NewEncoder(c).Encode(&req); err != nil {
		return nil, err
	}
	var rep reply
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// List asks every run on this host for its processes.
func List() ([]Run, error) {
	dir, err := openDir(false)
	if err == errNoDir {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	socks, _ := filepath.Glob(filepath.Join(dir, "*.sock"))
	sort.Slice(socks, func(i, j int) bool { return blockOf(socks[i]) < blockOf(socks[j]) })
	var runs []Run
	for _, s := range socks {
		rep, err := ask(s, request{Op: "ps"})
		if err != nil || rep.Run == nil {
			continue // a run that just ended
		}
		runs = append(runs, *rep.Run)
	}
	return runs, nil
}

func blockOf(sock string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(sock), ".sock"))
	return n
}

// Kill sends sig to process pid of whichever run owns it.
func Kill(pid int32, sig syscall.Signal) error {
	if pid <= 0 {
		return fmt.Errorf("pid %d: give the pid `ukfork ps` shows", pid)
	}
	none := fmt.Errorf("no running ukfork program has pid %d (see `ukfork ps`)", pid)
	dir, err := openDir(false)
	if err == errNoDir {
		return none
	}
	if err != nil {
		return err
	}
	b := int(pid) / BlockSize
	path := sockPath(dir, b)
	if _, err := os.Stat(path); b < 1 || b > maxBlocks || err != nil {
		return none
	}
	rep, err := ask(path, request{Op: "kill", Pid: pid, Sig: int(sig)})
	if err != nil {
		return fmt.Errorf("pid %d: %w", pid, err)
	}
	if rep.Error != "" {
		return fmt.Errorf("pid %d: %s", pid, rep.Error)
	}
	return nil
}
