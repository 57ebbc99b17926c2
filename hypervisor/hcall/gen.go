package hcall

//go:generate go run ../../libc-shim/syscalls/mksyscalls -root ../..
