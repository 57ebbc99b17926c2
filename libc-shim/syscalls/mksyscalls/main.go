// mksyscalls rewrites the files generated from libc-shim/syscalls.tsv: the
// guest's dispatch table, the host's syscall names and the table in
// docs/syscalls.md. Run it from the repository root (or give -root).
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/ukfork/ukfork/libc-shim/syscalls"
)

func main() {
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	files, err := syscalls.Generate(*root)
	if err != nil {
		log.Fatalf("mksyscalls: %v", err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(*root, name), data, 0o644); err != nil {
			log.Fatalf("mksyscalls: %v", err)
		}
	}
}
