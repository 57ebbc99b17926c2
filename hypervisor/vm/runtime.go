package vm

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"

	"github.com/ukfork/ukfork/hypervisor/abi"
)

// Runtime is a parsed guest runtime image (guest/build/runtime.elf), ready to
// be copied into each new VM.
type Runtime struct {
	Header   abi.RuntimeHeader
	segments []segment
}

type segment struct {
	addr  uint64
	data  []byte
	memsz uint64
}

// ParseRuntime checks a runtime ELF: it comes from an image, so it is input
// like any other. Its segments must fit in [RuntimeAddr, UserMin) and its
// header must name entry points inside them.
func ParseRuntime(b []byte) (*Runtime, error) {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("runtime: not an x86-64 executable")
	}
	rt := &Runtime{}
	var end uint64
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Vaddr < abi.RuntimeAddr || p.Memsz > abi.UserMin || p.Vaddr > abi.UserMin-p.Memsz || p.Filesz > p.Memsz {
			return nil, fmt.Errorf("runtime: segment %#x+%#x outside [%#x, %#x)", p.Vaddr, p.Memsz, abi.RuntimeAddr, abi.UserMin)
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil && p.Filesz > 0 { // a bss alone reads nothing
			return nil, fmt.Errorf("runtime: segment at %#x: %w", p.Vaddr, err)
		}
		rt.segments = append(rt.segments, segment{addr: p.Vaddr, data: data, memsz: p.Memsz})
		end = max(end, p.Vaddr+p.Memsz)
	}
	if len(rt.segments) == 0 || rt.segments[0].addr != abi.RuntimeAddr {
		return nil, fmt.Errorf("runtime: no segment at %#x", abi.RuntimeAddr)
	}
	h := &rt.Header
	if err := binary.Read(bytes.NewReader(rt.segments[0].data), binary.LittleEndian, h); err != nil {
		return nil, fmt.Errorf("runtime: header: %w", err)
	}
	if h.Magic != abi.RuntimeMagic {
		return nil, fmt.Errorf("runtime: bad header magic %#x", h.Magic)
	}
	if h.Abi_version != abi.Version {
		return nil, fmt.Errorf("runtime speaks ABI %d, this ukfork ABI %d: rebake the image with this ukfork", h.Abi_version, abi.Version)
	}
	// The fault stubs: both ends, so the table can neither start below the
	// runtime nor wrap around.
	for _, a := range []uint64{h.Start, h.Syscall_entry, h.Async_entry, h.Fault_entry, h.Fault_entry + 32*abi.FaultStubSize - 1} {
		if a < abi.RuntimeAddr || a >= end {
			return nil, fmt.Errorf("runtime: entry point %#x outside the runtime", a)
		}
	}
	return rt, nil
}

// load copies the runtime into guest memory; the bss is already zero.
func (rt *Runtime) load(mem []byte) {
	for _, s := range rt.segments {
		copy(mem[s.addr:], s.data)
	}
}
