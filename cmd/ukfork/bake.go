package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ukfork/ukfork/guest"
	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/toolchain/bake"
	"github.com/ukfork/ukfork/toolchain/image"
)

const defaultMem = "128M"

func bakeCmd() *cobra.Command {
	var files, env, links []string
	var out, mem string
	var applets bool
	c := &cobra.Command{
		Use:   "bake [flags] -o IMAGE PROGRAM",
		Short: "Bake a static program and its files into a bootable image",
		Long: `Bake a static x86-64 Linux executable (musl-gcc -static, gcc -static,
CGO_ENABLED=0 Go, busybox-static...) into an image with the ukfork guest
runtime and a read-only file tree. The program lands at /bin/NAME in the tree.

Dynamic executables are refused: relink them with -static.`,
		Example: `  ukfork bake -o hello.img ./hello
  ukfork bake --file ./www:/www --file /etc/hosts:/etc/hosts -o web.img /bin/busybox
  ukfork bake --mem 512M --env LANG=C -o sort.img ./sort
  ukfork bake --applets -o busybox.img /bin/busybox   # /bin/sh, /bin/ls ... -> busybox`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			m, err := bake.Bake(bake.Options{
				Program: args[0], Files: maps, MemSize: size, Env: env,
				Output: out, Runtime: rt, Creator: "ukfork bake", Links: links,
			})
			if err != nil {
				return err
			}
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
	c.Flags().BoolVar(&applets, "applets", false, "multi-call program (busybox): link every name `PROGRAM --list` prints into /bin")
	return c
}

func checkMem(size uint64) error {
	if !image.ValidMemSize(size) {
		return fmt.Errorf("--mem %dM: must be a multiple of 2M between %dM and %dG", size>>20, abi.MemMin>>20, uint64(abi.MemMax)>>30)
	}
	return nil
}
