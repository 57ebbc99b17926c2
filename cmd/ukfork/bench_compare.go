package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ukfork/ukfork/hypervisor/instance"
)

func benchCompareCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "compare IMAGE [ARGS...]",
		Short: "Run a benchmark program under ukfork and natively, side by side",
		Long: `Run the image's program with ARGS under ukfork, then the same binary natively,
and compare what both print. The program reports its own measurements, one
per line, as "NAME median X first Y 100th Z" (microseconds); ukfork prints
each beside its native value and their ratio. tests/apps/forkbench.c and
tests/apps/pipebench.c are such programs.`,
		Example: `  ukfork bake --mem 64M -o forkbench.img tests/apps/build/musl/forkbench
  ukfork bench compare forkbench.img 200 8`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return benchCompare(cmd.OutOrStdout(), args[0], args[1:])
		},
	}
	c.Flags().SetInterspersed(false)
	return c
}

type metric struct {
	name   string
	values map[string]float64 // median, first, 100th ...
	order  []string
}

// parseMetrics reads "NAME key value key value ..." lines; NAME may hold
// spaces and numbers: it ends where the rest of the line is all key-number
// pairs.
func parseMetrics(out []byte) []metric {
	var ms []metric
	isNum := func(s string) bool { _, err := strconv.ParseFloat(s, 64); return err == nil }
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		i := len(f)
		for i >= 2 && isNum(f[i-1]) && !isNum(f[i-2]) {
			i -= 2
		}
		if i == 0 || i == len(f) {
			continue
		}
		m := metric{name: strings.Join(f[:i], " "), values: map[string]float64{}}
		for j := i; j+1 < len(f); j += 2 {
			v, _ := strconv.ParseFloat(f[j+1], 64)
			m.values[f[j]] = v
			m.order = append(m.order, f[j])
		}
		ms = append(ms, m)
	}
	return ms
}

func benchCompare(w io.Writer, path string, args []string) error {
	prog, err := instance.Load(path)
	if err != nil {
		return err
	}
	native, err := extractProgram(prog)
	prog.Close()
	if err != nil {
		return err
	}
	defer os.Remove(native)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	uk := exec.Command(self, append([]string{"run", path}, args...)...)
	uk.Stderr = os.Stderr
	ukOut, err := uk.Output()
	if err != nil {
		return fmt.Errorf("under ukfork: %w", err)
	}
	nat := exec.Command(native, args...)
	nat.Args[0] = filepath.Base(prog.Image.Manifest.Program)
	nat.Stderr = os.Stderr
	natOut, err := nat.Output()
	if err != nil {
		return fmt.Errorf("native: %w", err)
	}
	um, nm := parseMetrics(ukOut), parseMetrics(natOut)
	fmt.Fprintf(w, "ukfork bench compare: %s %s (µs; same binary natively, this run)\n\n", path, strings.Join(args, " "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\t\tukfork\tnative\tukfork/native\n")
	for i, m := range um {
		for _, k := range m.order {
			nv := 0.0
			if i < len(nm) && nm[i].name == m.name {
				nv = nm[i].values[k]
			}
			ratio := "-"
			if nv > 0 {
				ratio = fmt.Sprintf("%.2fx", m.values[k]/nv)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%s\n", m.name, k, m.values[k], nv, ratio)
		}
	}
	return tw.Flush()
}
