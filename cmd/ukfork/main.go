// Command ukfork bakes static Linux programs into unikernel images and runs
// them, one KVM virtual machine per process.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/spf13/cobra"
)

// exitError carries a program's exit status out through cobra.
type exitError struct{ status int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.status) }

// procs sets GOMAXPROCS to one more than the CPUs, unless the user set it.
// Every vCPU thread spends its life in syscalls (KVM_RUN, blocking host
// calls); with as many Ps as CPUs, one coming back from a blocked call
// often finds none idle and, locked to its thread, waits ~0.2 ms for a
// handoff. One spare P removes most of that; many more make the
// scheduler's idle threads compete for the CPUs (launching 10 VMs at once
// took 4x longer with 64).
func procs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.NumCPU() + 1)
	}
}

func main() {
	procs()
	root := &cobra.Command{
		Use:   "ukfork",
		Short: "Run unmodified static Linux programs as unikernel virtual machines",
		Long: `ukfork turns a static x86-64 Linux program into a unikernel image and runs it
as its own KVM virtual machine: the program, ukfork's small guest runtime and
the files it needs, booted in about a millisecond.

  ukfork bake -o hello.img ./hello      # program + runtime + files -> image
  ukfork run hello.img arg1 arg2        # boot it; stdio and exit status are the program's
  ukfork inspect hello.img              # what an image holds
  ukfork bench boot hello.img           # launch latency against native spawn`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(bakeCmd(), runCmd(), inspectCmd(), psCmd(), killCmd(), benchCmd())
	err := root.Execute()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.status)
	case err != nil:
		fmt.Fprintf(os.Stderr, "ukfork: %v\n", err)
		os.Exit(125) // like `docker run`: ukfork itself failed, not the program
	}
}
