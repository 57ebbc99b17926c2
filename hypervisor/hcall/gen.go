package hcall

//go:generate go run mksysnames.go
