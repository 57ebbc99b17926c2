package kvm

//go:generate sh -c "go tool cgo -godefs types_linux.go | gofmt > ztypes_linux_amd64.go && rm -rf _obj _cgo_*.o"
