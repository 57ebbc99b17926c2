package bake

import (
	"fmt"
	"os/exec"
	"strings"
)

// Applets asks a multi-call binary (busybox) for the names it answers to,
// by running `PROGRAM --list` on the host: the program was checked to be an
// x86-64 executable first.
func Applets(program string) ([]string, error) {
	if err := CheckProgram(program); err != nil {
		return nil, err
	}
	out, err := exec.Command(program, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("--applets: %s --list failed (%v): is it a multi-call binary like busybox?", program, err)
	}
	var names []string
	for _, n := range strings.Fields(string(out)) {
		if n != "" && !strings.ContainsAny(n, "/\x00") && n != "." && n != ".." {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("--applets: %s --list printed no names", program)
	}
	return names, nil
}
