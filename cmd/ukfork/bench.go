package main

import "github.com/spf13/cobra"

func benchCmd() *cobra.Command {
	c := &cobra.Command{Use: "bench", Short: "Benchmarks against native Linux, run on this machine"}
	c.AddCommand(benchBootCmd())
	return c
}
func benchBootCmd() *cobra.Command { return &cobra.Command{Use: "boot"} }
