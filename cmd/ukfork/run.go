package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/instance"
	"github.com/ukfork/ukfork/hypervisor/kernel"
	"github.com/ukfork/ukfork/hypervisor/vfs"
	"github.com/ukfork/ukfork/toolchain/image"
)

// stopGrace is how long a program may take to end after SIGINT or SIGTERM
// reached its first process before ukfork stops every VM; a second signal
// stops them at once.
const stopGrace = 5 * time.Second

func runCmd() *cobra.Command {
	var mem string
	var trace bool
	var env []string
	var maxProcs int
	var noRewrite bool
	var entrypoint, user, filesSize string
	var volumes []string
	c := &cobra.Command{
		Use:   "run [flags] IMAGE [ARGS...]",
		Short: "Boot an image and run its program",
		Long: `Boot an image as a KVM virtual machine and run its program with ARGS.
argv[0] is the program's name, so "ukfork run busybox.img sha256sum /f" runs
"busybox sha256sum /f". The program reads and writes this terminal; ukfork
exits with its exit status (128+N when killed by signal N, e.g. 139 for a
segmentation fault). SIGINT (Ctrl-C) and SIGTERM go to the program's first
process; if it has not ended 5 s later, or on a second one, every VM of the
program is stopped. Flags go before IMAGE; everything after IMAGE belongs to
the program.

The image's files are writable for the run: changes live in memory, as do
/tmp, /run and /dev/shm, all within --files-size, and are gone when the run
ends. --volume gives the program a host directory that persists; nothing
the program names reaches the host outside it.

ukfork's own failures exit with 125.`,
		Example: `  ukfork run hello.img
  ukfork run --trace busybox.img ls -l /
  ukfork run --mem 1G --env LANG=C sort.img -n /data/big.txt
  ukfork run --max-procs 64 busybox.img sh -c 'make -j8'
  ukfork run --entrypoint /bin/initdb pg.img -D /data
  ukfork run --user 1000:1000 app.img
  ukfork run --user postgres pg.img
  ukfork run --volume /srv/data:/data --volume /etc/app:/etc/app:ro app.img
  ukfork run --files-size 1G busybox.img sh -c 'dd if=/dev/zero of=/tmp/f bs=1M count=512'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var size uint64
			if cmd.Flags().Changed("mem") {
				var err error
				if size, err = parseSize("mem", mem); err != nil {
					return err
				}
				if err := checkMem(size); err != nil {
					return err
				}
			}
			var tw io.Writer
			if trace {
				tw = os.Stderr
			}
			for _, e := range env {
				if err := image.CheckEnv(e); err != nil {
					return fmt.Errorf("--env %w", err)
				}
			}
			var u *instance.User
			if cmd.Flags().Changed("user") {
				var err error
				if u, err = instance.ParseUser(user); err != nil {
					return err
				}
			}
			if maxProcs < 0 {
				return fmt.Errorf("--max-procs %d: want a positive number of processes", maxProcs)
			}
			var files uint64
			if cmd.Flags().Changed("files-size") {
				var err error
				if files, err = parseSize("files-size", filesSize); err != nil {
					return err
				}
			}
			var vols []vfs.VolumeSpec
			for _, v := range volumes {
				spec, err := vfs.ParseVolume(v)
				if err != nil {
					return err
				}
				if err := checkVolume(spec); err != nil {
					return err
				}
				vols = append(vols, spec)
			}
			return run(args[0], args[1:], instance.Options{MemSize: size, Env: env, Trace: tw, MaxProcs: maxProcs, NoRewrite: noRewrite, Control: true,
				Entrypoint: entrypoint, User: u, FilesSize: int64(files), Volumes: vols})
		},
	}
	c.Flags().SetInterspersed(false)
	c.Flags().StringVar(&mem, "mem", "", "guest memory (default: what the image was baked with)")
	c.Flags().StringVar(&user, "user", "", "USER[:GROUP]: run the program as this user (a name in the image's /etc/passwd or a uid) and group (a name in its /etc/group or a gid; default: the user's, or 0 for a uid the image does not name), with the groups the image lists it in, as Docker does; default: yours")
	c.Flags().StringVar(&entrypoint, "entrypoint", "", "GUESTPATH: start this program of the image instead of the baked one (argv[0] is GUESTPATH, as Docker gives it)")
	c.Flags().StringArrayVar(&volumes, "volume", nil, "HOSTDIR:GUESTDIR[:ro]: mount host directory HOSTDIR at GUESTDIR, read-only with :ro (repeatable); what the program makes there belongs to the ids it runs as when ukfork runs as root")
	c.Flags().StringVar(&filesSize, "files-size", "256M", "memory the run's written files may hold: its changes to the image, /tmp, /run and /dev/shm (ENOSPC past it)")
	c.Flags().BoolVar(&trace, "trace", false, "print every syscall with its result on stderr, like strace")
	c.Flags().StringArrayVar(&env, "env", nil, "KEY=VALUE: add to or override the image's environment (repeatable)")
	c.Flags().BoolVar(&noRewrite, "no-rewrite", false, "leave the program's syscall instructions as they are (each then traps: slower; for debugging)")
	c.Flags().IntVar(&maxProcs, "max-procs", 0, fmt.Sprintf("processes (VMs) the program may have at once; fork fails with EAGAIN beyond (default %d here)", kernel.DefaultMaxProcs()))
	return c
}

// checkVolume gives one line for a host directory a volume cannot use.
func checkVolume(v vfs.VolumeSpec) error {
	st, err := os.Stat(v.Host)
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("--volume %s:%s: the host directory %s does not exist", v.Host, v.Guest, v.Host)
	case err != nil:
		return fmt.Errorf("--volume %s:%s: %w", v.Host, v.Guest, err)
	case !st.IsDir():
		return fmt.Errorf("--volume %s:%s: %s is not a directory", v.Host, v.Guest, v.Host)
	}
	return nil
}

func run(path string, args []string, o instance.Options) error {
	// Caught from the start: a signal that comes while the VM is made goes
	// to the program once its first process exists, as one sent right after
	// exec would.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	defer signal.Stop(sigs)
	prog, err := instance.Load(path)
	if err != nil {
		return err
	}
	defer prog.Close()
	o.Args = args
	o.Stdio = [3]int{0, 1, 2}
	inst, err := prog.Start(o)
	if err != nil {
		return err
	}
	defer inst.Close()

	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case s := <-sigs:
			sig := s.(unix.Signal)
			inst.Signal(sig)
			select {
			case <-done:
			case <-sigs:
				inst.Stop(sig)
			case <-time.After(stopGrace):
				inst.Stop(sig)
			}
		case <-done:
		}
	}()

	exit, err := inst.Run()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if exit.Msg != "" {
		name := prog.Image.Manifest.Name
		if o.Entrypoint != "" {
			name = filepath.Base(o.Entrypoint)
		}
		fmt.Fprintf(os.Stderr, "ukfork: %s: %s\n", name, exit.Msg)
	}
	if s := exit.Status(); s != 0 {
		return exitError{s}
	}
	return nil
}
