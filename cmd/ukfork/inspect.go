package main

import (
	"fmt"
	"io/fs"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ukfork/ukfork/hypervisor/vm"
	"github.com/ukfork/ukfork/toolchain/image"
)

func inspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect IMAGE",
		Short: "Show what an image holds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := image.Open(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			m := img.Manifest
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "image:\t%s (version %d, %d bytes)\n", img.Path, m.Version, img.Size)
			fmt.Fprintf(w, "program:\t%s (argv[0] %q)\n", m.Program, m.Name)
			fmt.Fprintf(w, "memory:\t%d MiB\n", m.MemSize>>20)
			fmt.Fprintf(w, "env:\t%s\n", strings.Join(m.Env, " "))
			rt := "unreadable"
			if b, err := img.Runtime(); err == nil {
				if r, err := vm.ParseRuntime(b); err == nil {
					rt = fmt.Sprintf("%d bytes, ABI %d", len(b), r.Header.Abi_version)
				} else {
					rt = err.Error()
				}
			}
			fmt.Fprintf(w, "runtime:\t%s\n", rt)
			fmt.Fprintf(w, "files:\t%d\n", len(m.Files))
			w.Flush()
			out := cmd.OutOrStdout()
			for _, e := range m.Files {
				mode := fs.FileMode(e.Mode).Perm()
				var size, extra string
				switch e.Type {
				case image.TypeDir:
					mode |= fs.ModeDir
				case image.TypeSymlink:
					mode, extra = fs.ModeSymlink|0o777, " -> "+e.Target
				default:
					size = fmt.Sprint(e.Data.Size)
				}
				fmt.Fprintf(out, "  %s %10s  %s%s\n", mode, size, e.Path, extra)
			}
			return nil
		},
	}
}
