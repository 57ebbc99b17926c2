package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ukfork/ukfork/hypervisor/instance"
)

func benchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks against native Linux, measured in the same run",
	}
	c.AddCommand(benchBootCmd(), benchCompareCmd())
	return c
}

func benchBootCmd() *cobra.Command {
	var runs, parallel int
	var nativeProg string
	c := &cobra.Command{
		Use:   "boot [flags] IMAGE [ARGS...]",
		Short: "Launch latency: to the program's first instruction and to its exit",
		Long: `Boot IMAGE again and again and report medians of:
  - launch to the program's first instruction and to its exit;
  - the paper's experiment: N instances launched at once, time until all started;
  - the whole run as a user sees it: a new "ukfork run IMAGE" process, alone
    and N at once, until it exits;
  - host memory a VM holds at exit;
and, in the same run, the native baseline: the same program (taken from the
image) spawned and waited for by this process, one at a time and N at once.
The program's output is discarded.`,
		Example: `  ukfork bench boot hello.img
  ukfork bench boot --runs 500 --parallel 10 busybox.img true`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runs < 1 || parallel < 1 {
				return fmt.Errorf("--runs and --parallel must be at least 1")
			}
			return benchBoot(cmd.OutOrStdout(), args[0], args[1:], runs, parallel, nativeProg)
		},
	}
	c.Flags().SetInterspersed(false)
	c.Flags().IntVar(&runs, "runs", 200, "launches to measure")
	c.Flags().IntVar(&parallel, "parallel", 10, "instances launched at once in the concurrent experiment")
	c.Flags().StringVar(&nativeProg, "native", "", "native program for the baseline (default: the image's program)")
	return c
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }

type bootSample struct {
	started, exited time.Duration
	resident        uint64
	close           func() // tears the VM down; not part of the launch
}

// bootOnce launches one instance and times it from the start of the launch.
func bootOnce(prog *instance.Program, args []string, null int) (bootSample, error) {
	t0 := time.Now()
	inst, err := prog.Start(instance.Options{Args: args, Stdio: [3]int{null, null, null}, Stderr: io.Discard, Started: true})
	if err != nil {
		return bootSample{}, err
	}
	if _, err := inst.Run(); err != nil {
		inst.Close()
		return bootSample{}, err
	}
	s := bootSample{exited: time.Since(t0), resident: inst.Init.ResidentAtExit, close: inst.Close}
	if !inst.Init.StartedAt.IsZero() {
		s.started = inst.Init.StartedAt.Sub(t0)
	}
	return s, nil
}

// concurrently launches n instances at once; returns when all started and
// when all exited, from the common start.
func concurrently(n int, launch func() (bootSample, error)) (time.Duration, time.Duration, error) {
	var wg sync.WaitGroup
	samples := make([]bootSample, n)
	errs := make([]error, n)
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			samples[i], errs[i] = launch()
		}(i)
	}
	close(gate)
	wg.Wait()
	var started, exited time.Duration
	for _, s := range samples {
		if s.close != nil {
			s.close()
		}
	}
	for i, s := range samples {
		if errs[i] != nil {
			return 0, 0, errs[i]
		}
		started, exited = max(started, s.started), max(exited, s.exited)
	}
	return started, exited, nil
}

func spawnOnce(path string, args []string) (bootSample, error) {
	t0 := time.Now()
	c := exec.Command(path, args...)
	c.Args[0] = filepath.Base(path)
	if err := c.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return bootSample{}, err
		}
	}
	d := time.Since(t0)
	return bootSample{started: d, exited: d}, nil
}

func benchBoot(w io.Writer, path string, args []string, runs, parallel int, nativeProg string) error {
	prog, err := instance.Load(path)
	if err != nil {
		return err
	}
	defer prog.Close()
	m := prog.Image.Manifest
	if nativeProg == "" {
		if nativeProg, err = extractProgram(prog); err != nil {
			return err
		}
		defer os.Remove(nativeProg)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	nfd := int(null.Fd())
	ukLaunch := func() (bootSample, error) { return bootOnce(prog, args, nfd) }
	ukSerial := func() (bootSample, error) {
		s, err := bootOnce(prog, args, nfd)
		if err == nil {
			s.close()
		}
		return s, err
	}
	natLaunch := func() (bootSample, error) { return spawnOnce(nativeProg, args) }
	// The whole run as a user starts it: a new `ukfork run` process.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	runArgs := append([]string{"run", path}, args...)
	outLaunch := func() (bootSample, error) { return spawnOnce(self, runArgs) }

	// Warm up both paths (page cache, KVM module state) before measuring.
	for i := 0; i < 5; i++ {
		if _, err := ukSerial(); err != nil {
			return err
		}
		if _, err := natLaunch(); err != nil {
			return err
		}
	}
	var ukStart, ukExit, natExit []time.Duration
	var resident uint64
	for i := 0; i < runs; i++ {
		s, err := ukSerial()
		if err != nil {
			return err
		}
		ukStart, ukExit = append(ukStart, s.started), append(ukExit, s.exited)
		resident = max(resident, s.resident)
		n, err := natLaunch()
		if err != nil {
			return err
		}
		natExit = append(natExit, n.exited)
	}
	var outExit []time.Duration
	for i := 0; i < max(runs/4, 10); i++ {
		s, err := outLaunch()
		if err != nil {
			return err
		}
		outExit = append(outExit, s.exited)
	}
	rounds := max(runs/parallel, 5)
	var parStart, parExit, natParExit, outParExit []time.Duration
	for i := 0; i < rounds; i++ {
		s, e, err := concurrently(parallel, ukLaunch)
		if err != nil {
			return err
		}
		parStart, parExit = append(parStart, s), append(parExit, e)
		_, e, err = concurrently(parallel, natLaunch)
		if err != nil {
			return err
		}
		natParExit = append(natParExit, e)
		_, e, err = concurrently(parallel, outLaunch)
		if err != nil {
			return err
		}
		outParExit = append(outParExit, e)
	}

	fmt.Fprintf(w, "ukfork bench boot: %s (%s, %d MiB guest), %d runs, %d rounds of %d at once; medians\n\n",
		path, m.Program, m.MemSize>>20, runs, rounds, parallel)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\tukfork\tnative spawn\tukfork/native\n")
	fmt.Fprintf(tw, "launch -> first instruction\t%s\t-\t-\n", ms(median(ukStart)))
	fmt.Fprintf(tw, "launch -> exit\t%s\t%s\t%.2fx\n", ms(median(ukExit)), ms(median(natExit)), ratio(ukExit, natExit))
	fmt.Fprintf(tw, "%d at once -> all started\t%s\t-\t-\n", parallel, ms(median(parStart)))
	fmt.Fprintf(tw, "%d at once -> all exited\t%s\t%s\t%.2fx\n", parallel, ms(median(parExit)), ms(median(natParExit)), ratio(parExit, natParExit))
	fmt.Fprintf(tw, "whole `ukfork run`, from outside\t%s\t%s\t%.2fx\n", ms(median(outExit)), ms(median(natExit)), ratio(outExit, natExit))
	fmt.Fprintf(tw, "%d `ukfork run` at once -> all exited\t%s\t%s\t%.2fx\n", parallel, ms(median(outParExit)), ms(median(natParExit)), ratio(outParExit, natParExit))
	fmt.Fprintf(tw, "host memory per VM at exit\t%d KiB\t-\t-\n", resident>>10)
	tw.Flush()
	fmt.Fprintf(w, "\nnative spawn: Go os/exec (clone(CLONE_VFORK) + execve + wait) of %s, output discarded.\n", nativeProg)
	fmt.Fprintf(w, "paper, 10 at once on Xen (all started): Linux 19.5 s, Mini-OS 5.4 s, Rumprun 1 s.\n")
	return nil
}

func ratio(a, b []time.Duration) float64 {
	if median(b) == 0 {
		return 0
	}
	return float64(median(a)) / float64(median(b))
}

// extractProgram copies the image's program to a temporary executable.
func extractProgram(prog *instance.Program) (string, error) {
	m := prog.Image.Manifest
	for _, e := range m.Files {
		if e.Path != m.Program {
			continue
		}
		f, err := os.CreateTemp("", "ukfork-native-*")
		if err != nil {
			return "", err
		}
		_, err = io.Copy(f, io.NewSectionReader(prog.Image.File, int64(e.Data.Off), int64(e.Data.Size)))
		if err == nil {
			err = f.Chmod(0o755)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return "", err
		}
		return f.Name(), nil
	}
	return "", fmt.Errorf("%s: program %s not in the image", prog.Image.Path, m.Program)
}
