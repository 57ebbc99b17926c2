// Package abi is the Go view of the hypercall ABI and guest memory layout,
// generated from guest/include/ukfork/abi.h: that header is the contract.
package abi

//go:generate sh -c "go tool cgo -godefs types_abi.go | gofmt > zabi_generated.go && rm -rf _obj _cgo_*.o"
