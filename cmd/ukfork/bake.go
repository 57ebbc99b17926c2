package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ukfork/ukfork/guest"
	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/toolchain/bake"
	"github.com/ukfork/ukfork/toolchain/image"
	"github.com/ukfork/ukfork/toolchain/ldso"
)

const defaultMem = "128M"

func bakeCmd() *cobra.Command {
	var files, env, links, libs []string
	var out, mem string
	var applets, printDeps, verbose bool
	c := &cobra.Command{
		Use:   "bake [flags] -o IMAGE PROGRAM\n  ukfork bake --print-deps [--lib NAME]... PROGRAM",
		Short: "Bake a program and its files into a bootable image",
		Long: `Bake an x86-64 Linux executable (static, static-PIE or dynamic) into an
image with the ukfork guest runtime and a read-only file tree. The program
lands at /bin/NAME in the tree.

For the program and every ELF file added with --file, bake adds the
interpreter and every shared library it loads (libraries of libraries too),
with their symlinks, at the paths the loader in the image opens, and the
host's /etc/ld.so.cache (musl: /etc/ld-musl-x86_64.path). They are found as
the loader would find them (glibc's ld.so or musl's, see ld.so(8)): DT_RPATH
and DT_RUNPATH with $ORIGIN (taken from where the file sits in the image),
$LIB and $PLATFORM, /etc/ld.so.cache, then the system directories. Nothing is
run, and LD_LIBRARY_PATH and LD_PRELOAD are not used, so the result does not
depend on the environment. --lib names libraries the program loads itself
with dlopen(3); they and their own needs are added the same way. A file
given with --file wins over a library at the same path. --print-deps lists
what the program loads and bakes nothing.

The guest runtime does not run dynamic programs yet: such an image bakes,
and ukfork run says so in one line.`,
		Example: `  ukfork bake -o hello.img ./hello
  ukfork bake --file ./www:/www --file /etc/hosts:/etc/hosts -o web.img /bin/busybox
  ukfork bake --mem 512M --env LANG=C -o sort.img ./sort
  ukfork bake --applets -o busybox.img /bin/busybox   # /bin/sh, /bin/ls ... -> busybox
  ukfork bake -v -o ls.img /bin/ls                     # list every library added
  ukfork bake --print-deps /usr/bin/python3            # interpreter and libraries it needs
  ukfork bake --print-deps --lib libnss_files.so.2 /bin/ls`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if printDeps {
				if out != "" {
					return fmt.Errorf("--print-deps writes no image: drop -o %s, or drop --print-deps to bake", out)
				}
				d, err := bake.Deps(args[0], libs)
				if err != nil {
					return err
				}
				return writeDeps(cmd.OutOrStdout(), args[0], d)
			}
			if out == "" {
				return fmt.Errorf("no output image: add -o IMAGE")
			}
			size, err := parseSize("mem", mem)
			if err != nil {
				return err
			}
			if err := checkMem(size); err != nil {
				return err
			}
			var maps []bake.Mapping
			for _, f := range files {
				m, err := bake.ParseMapping(f)
				if err != nil {
					return err
				}
				maps = append(maps, m)
			}
			rt, err := guest.Runtime()
			if err != nil {
				return err
			}
			if applets {
				names, err := bake.Applets(args[0])
				if err != nil {
					return err
				}
				for _, n := range names {
					links = append(links, "/bin/"+n)
				}
			}
			res, err := bake.Bake(bake.Options{
				Program: args[0], Files: maps, MemSize: size, Env: env,
				Output: out, Runtime: rt, Creator: "ukfork bake", Links: links, Libs: libs,
			})
			if err != nil {
				return err
			}
			writeAdded(cmd.OutOrStdout(), res.Added, verbose)
			m := res.Manifest
			fmt.Fprintf(cmd.OutOrStdout(), "baked %s: %s, %d files, %d MiB guest memory\n",
				out, m.Program, len(m.Files), m.MemSize>>20)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "image file to write (required)")
	c.Flags().StringArrayVar(&files, "file", nil, "HOSTPATH:GUESTPATH: add a file or a whole directory (repeatable)")
	c.Flags().StringArrayVar(&env, "env", nil, "KEY=VALUE: environment of the program (repeatable)")
	c.Flags().StringVar(&mem, "mem", defaultMem, "guest memory; untouched memory costs the host nothing")
	c.Flags().StringArrayVar(&links, "link", nil, "GUESTPATH: a symlink to the program, e.g. --link /bin/sh (repeatable)")
	c.Flags().BoolVar(&printDeps, "print-deps", false, "print the interpreter and shared libraries the program needs, and bake nothing")
	c.Flags().StringArrayVar(&libs, "lib", nil, "NAME: a library the program loads with dlopen, as it names it (repeatable)")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "list each interpreter, library, symlink and loader file added, and why")
	c.Flags().BoolVar(&applets, "applets", false, "multi-call program (busybox): link every name `PROGRAM --list` prints into /bin")
	return c
}

// writeAdded says what bake added for dynamic ELF files: one summary line,
// or with verbose one line per entry ("+ PATH (WHY)", "+ PATH -> TARGET").
func writeAdded(out io.Writer, added []bake.Added, verbose bool) {
	if len(added) == 0 {
		return
	}
	var files, links int
	var size int64
	for _, a := range added {
		if a.Type == image.TypeSymlink {
			links++
			if verbose {
				fmt.Fprintf(out, "+ %s -> %s\n", a.Path, a.Target)
			}
			continue
		}
		files++
		size += a.Size
		if verbose {
			fmt.Fprintf(out, "+ %s (%s)\n", a.Path, a.Why)
		}
	}
	fmt.Fprintf(out, "added %d files (%.1f MiB) and %d symlinks for dynamic loading", files, float64(size)/(1<<20), links)
	if !verbose {
		fmt.Fprintf(out, " (-v lists them)")
	}
	fmt.Fprintln(out)
}

// writeDeps prints what a program loads, one object a line: the name it is
// asked for, the path the loader opens, the file behind any symlinks, and
// who needs it.
func writeDeps(out io.Writer, program string, d *ldso.Deps) error {
	if !d.Dynamic() {
		_, err := fmt.Fprintf(out, "%s is static: it needs no interpreter or shared libraries\n", program)
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "NAME\tLOADED AS\tFILE\tNEEDED BY\n")
	row := func(name string, o *ldso.Object, by string) {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", name, o.Path, o.Real, by)
	}
	row("(interpreter)", d.Interp, program)
	for _, l := range d.Libs {
		by := l.NeededBy
		if by == d.Program.Path {
			by = program
		}
		if l.Dlopen && by == program {
			by = "--lib"
		}
		row(l.Name, l, by)
	}
	return w.Flush()
}

func checkMem(size uint64) error {
	if !image.ValidMemSize(size) {
		return fmt.Errorf("--mem %dM: must be a multiple of 2M between %dM and %dG", size>>20, abi.MemMin>>20, uint64(abi.MemMax)>>30)
	}
	return nil
}
