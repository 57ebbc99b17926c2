// Package guest carries the guest runtime (built by `make` from guest/ and
// libc-shim/) inside the ukfork binary, so nothing else is needed at run time.
package guest

import (
	"embed"
	"errors"
)

//go:embed all:build
var build embed.FS

// ErrNotBuilt says the binary was built without the runtime.
var ErrNotBuilt = errors.New("this ukfork was built without its guest runtime: build it with `make`, not `go build` alone")

// Runtime returns the guest runtime ELF.
func Runtime() ([]byte, error) {
	b, err := build.ReadFile("build/runtime.elf")
	if err != nil {
		return nil, ErrNotBuilt
	}
	return b, nil
}
