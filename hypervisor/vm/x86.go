package vm

import (
	"encoding/binary"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kvm"
)

// x86-64 boot state of a ukfork guest: long mode, flat segments, the program
// and runtime in ring 3, a TSS whose I/O bitmap opens only the hypercall
// ports (PVM ignores RFLAGS.IOPL), and ring-0 gates for exceptions alone.
const (
	selKernelCode = 0x08
	selKernelData = 0x10
	selUserCode32 = 0x18 // STAR's sysret base: user SS = +8, user CS = +16
	selUserData   = 0x20
	selUserCode   = 0x28
	selTSS        = 0x30
	gdtEntries    = 8 // the TSS takes two

	cr0PE, cr0MP, cr0ET, cr0NE, cr0WP, cr0AM, cr0PG           = 1 << 0, 1 << 1, 1 << 4, 1 << 5, 1 << 16, 1 << 18, 1 << 31
	cr4PAE, cr4OSFXSR, cr4OSXMMEXCPT, cr4FSGSBASE, cr4OSXSAVE = 1 << 5, 1 << 9, 1 << 10, 1 << 16, 1 << 18
	eferSCE, eferLME, eferLMA, eferNXE                        = 1 << 0, 1 << 8, 1 << 10, 1 << 11

	msrSTAR    = 0xC0000081
	msrLSTAR   = 0xC0000082
	msrCSTAR   = 0xC0000083
	msrSFMASK  = 0xC0000084
	msrFSBase  = 0xC0000100
	msrGSBase  = 0xC0000101
	msrKGSBase = 0xC0000102

	// sfmask clears TF, IF, DF, IOPL, NT and AC on syscall, as Linux does.
	sfmask = 0x47700

	pteP, pteRW, pteUS, ptePS, pteNX = 1 << 0, 1 << 1, 1 << 2, 1 << 7, 1 << 63

	// tssIOBitmap is the I/O bitmap offset; ports past the TSS limit are
	// denied, so the bitmap needs only to reach the hypercall ports.
	tssIOBitmap = 104
	ioPorts     = abi.HCPortBase + abi.HCMax
	tssLimit    = tssIOBitmap + ioPorts/8 // plus the trailing 0xff byte, inclusive
)

var le = binary.LittleEndian

// writeGDT lays out the flat segments and the TSS descriptor.
func writeGDT(mem []byte) {
	g := mem[abi.GDTAddr : abi.GDTAddr+gdtEntries*8]
	clear(g)
	le.PutUint64(g[selKernelCode:], 0x00af9b000000ffff) // 64-bit code, DPL 0
	le.PutUint64(g[selKernelData:], 0x00cf93000000ffff)
	le.PutUint64(g[selUserCode32:], 0x00cffb000000ffff) // 32-bit code, DPL 3
	le.PutUint64(g[selUserData:], 0x00cff3000000ffff)
	le.PutUint64(g[selUserCode:], 0x00affb000000ffff) // 64-bit code, DPL 3
	base := uint64(abi.TSSAddr)
	lo := uint64(tssLimit&0xffff) | (base&0xffffff)<<16 | uint64(0x89)<<40 |
		uint64(tssLimit>>16&0xf)<<48 | (base>>24&0xff)<<56
	le.PutUint64(g[selTSS:], lo)
	le.PutUint64(g[selTSS+8:], base>>32)
}

// writeTSS sets RSP0 (the exception stack) and opens the hypercall ports.
func writeTSS(mem []byte) {
	t := mem[abi.TSSAddr : abi.TSSAddr+tssLimit+1]
	clear(t)
	le.PutUint64(t[4:], abi.XStackTop)
	le.PutUint16(t[102:], tssIOBitmap)
	bm := t[tssIOBitmap:]
	for i := range bm {
		bm[i] = 0xff
	}
	for p := abi.HCPortBase; p < abi.HCPortBase+abi.HCMax; p++ {
		bm[p/8] &^= 1 << (p % 8)
	}
}

// writeIDT points vectors 0-31 at the runtime's ring-0 fault stubs; int3 and
// into may come from ring 3 and so have DPL 3.
func writeIDT(mem []byte, faultEntry uint64) {
	idt := mem[abi.IDTAddr : abi.IDTAddr+256*16]
	clear(idt)
	for v := 0; v < 32; v++ {
		h := faultEntry + uint64(v)*abi.FaultStubSize
		attr := uint64(0x8e) // present, DPL 0, interrupt gate
		if v == 3 || v == 4 {
			attr = 0xee
		}
		e := idt[v*16:]
		le.PutUint64(e, h&0xffff|uint64(selKernelCode)<<16|attr<<40|(h>>16&0xffff)<<48)
		le.PutUint64(e[8:], h>>32)
	}
}

// writePageTables writes the boot tables (abi.h, "Guest memory layout"):
// the runtime's low 4 MiB identity-mapped (4 KiB pages for the first 2 MiB,
// so that page 0 stays unmapped; one 2 MiB page for the pipe rings), and the
// direct map of all RAM at abi.DmapBase, 2 MiB pages, never executable. The
// program's space starts empty: the runtime maps it.
func writePageTables(mem []byte, size uint64) {
	const twoMiB = 2 << 20
	clear(mem[abi.PML4Addr : abi.PML4Addr+4096])
	clear(mem[abi.PDPTAddr : abi.PDPTAddr+4096])
	clear(mem[abi.PDAddr : abi.PDAddr+4*4096])
	clear(mem[abi.PDPTDmapAddr : abi.PDPTDmapAddr+4096])
	clear(mem[abi.PDLowAddr : abi.PDLowAddr+4096])
	table := uint64(pteP | pteRW | pteUS)
	le.PutUint64(mem[abi.PML4Addr:], abi.PDPTAddr|table)
	le.PutUint64(mem[abi.PDPTAddr:], abi.PDLowAddr|table)
	le.PutUint64(mem[abi.PDLowAddr:], abi.PT0Addr|table)
	le.PutUint64(mem[abi.PDLowAddr+8:], abi.RingArea|table|ptePS)
	for a := uint64(4096); a < twoMiB; a += 4096 {
		flags := uint64(pteP | pteRW | pteUS)
		if supervisorOnly(a) {
			flags &^= pteUS
		}
		le.PutUint64(mem[abi.PT0Addr+a/4096*8:], a|flags)
	}
	le.PutUint64(mem[abi.PML4Addr+abi.DmapBase>>39%512*8:], abi.PDPTDmapAddr|table)
	gibs := (size + 1<<30 - 1) >> 30
	for i := uint64(0); i < gibs; i++ {
		le.PutUint64(mem[abi.PDPTDmapAddr+i*8:], abi.PDAddr+i*4096|table)
	}
	for a := uint64(0); a < size; a += twoMiB {
		le.PutUint64(mem[abi.PDAddr+a/twoMiB*8:], a|table|ptePS|pteNX)
	}
}

// supervisorOnly reports the pages only the CPU itself needs: descriptor
// tables, TSS and the boot tables. Ring 3 (the program and the runtime alike)
// faults on them, as a Linux process faults on low memory. The exception
// stack is the runtime's: its ring-3 fault handler reads the frame there.
func supervisorOnly(a uint64) bool {
	return a < abi.BootinfoAddr
}

func flatSeg(sel uint16, code bool) kvm.Segment {
	s := kvm.Segment{Limit: 0xffffffff, Selector: sel, Present: 1, Dpl: 3, S: 1, G: 1}
	if code {
		s.Type, s.L = 11, 1
	} else {
		s.Type, s.Db = 3, 1
	}
	return s
}

// bootSregs is the special register state: long mode, ring 3.
func bootSregs(xsave bool) kvm.Sregs {
	data := flatSeg(selUserData|3, false)
	s := kvm.Sregs{
		Cs: flatSeg(selUserCode|3, true),
		Ds: data, Es: data, Fs: data, Gs: data, Ss: data,
		Tr:   kvm.Segment{Base: abi.TSSAddr, Limit: tssLimit, Selector: selTSS, Type: 11, Present: 1},
		Ldt:  kvm.Segment{Selector: 0, Type: 2, Present: 1, Unusable: 1},
		Gdt:  kvm.DTable{Base: abi.GDTAddr, Limit: gdtEntries*8 - 1},
		Idt:  kvm.DTable{Base: abi.IDTAddr, Limit: 256*16 - 1},
		Cr0:  cr0PE | cr0MP | cr0ET | cr0NE | cr0WP | cr0AM | cr0PG,
		Cr3:  abi.PML4Addr,
		Cr4:  cr4PAE | cr4OSFXSR | cr4OSXMMEXCPT | cr4FSGSBASE,
		Efer: eferSCE | eferLME | eferLMA | eferNXE,
	}
	if xsave {
		s.Cr4 |= cr4OSXSAVE
	}
	return s
}

// bootMSRs makes `syscall` land in the runtime's entry stub.
func bootMSRs(syscallEntry uint64) []kvm.MSREntry {
	return []kvm.MSREntry{
		{Index: msrSTAR, Data: uint64(selUserCode32)<<48 | uint64(selKernelCode)<<32},
		{Index: msrLSTAR, Data: syscallEntry},
		{Index: msrCSTAR, Data: 0},
		{Index: msrSFMASK, Data: sfmask},
		{Index: msrFSBase, Data: 0},
		{Index: msrGSBase, Data: 0},
		{Index: msrKGSBase, Data: 0},
	}
}
