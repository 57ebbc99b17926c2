package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/ukfork/ukfork/hypervisor/control"
)

func psCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ps",
		Short: "List the processes (VMs) of running programs",
		Long: `List every process of every program that ukfork runs on this host: one
line per process, each its own VM. RUN is the host pid of the ukfork run
command; PID is the program's pid, unique on this host. MEM is the guest
memory the host holds for the process (what it touched, less what it shares
copy-on-write with its parent); HOSTMEM is the host memory its descriptors
hold (pipe buffers and pipe rings).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			runs, err := control.List()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "RUN\tPID\tPPID\tPGID\tSTATE\tMEM\tHOSTMEM\tCOMMAND")
			for _, r := range runs {
				for _, p := range r.Procs {
					fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%s\t%dK\t%dK\t%s\n", r.HostPid, p.Pid, p.Ppid, p.Pgid, p.State, p.Resident>>10, p.HostMem>>10, p.Command)
				}
			}
			return w.Flush()
		},
	}
}

func killCmd() *cobra.Command {
	var sigName string
	c := &cobra.Command{
		Use:   "kill [-s SIGNAL] PID...",
		Short: "Send a signal to processes of running programs",
		Long: `Send a signal (default TERM) to processes that ` + "`ukfork ps`" + ` lists. A negative
PID is not supported: signal a process group from inside the program.`,
		Example: `  ukfork kill 4097
  ukfork kill -s USR1 4098 4099`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := parseSignal(sigName)
			if err != nil {
				return err
			}
			for _, a := range args {
				pid, err := strconv.ParseInt(a, 10, 32)
				if err != nil || pid <= 0 {
					return fmt.Errorf("%q is not a pid: give a number that `ukfork ps` shows", a)
				}
				if err := control.Kill(int32(pid), sig); err != nil {
					return err
				}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&sigName, "signal", "s", "TERM", "signal name (TERM, KILL, USR1, ...) or number")
	return c
}

// parseSignal reads TERM, SIGTERM, term or 15.
func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("signal %d: want 0-64", n)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q: use a name such as TERM, KILL, USR1, or a number", s)
}
