package vm

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/hypervisor/kvm"
)

// bootMem writes the boot structures as New does into a buffer that holds
// them all (they live in the first 64 KiB). The descriptor-table area starts
// as garbage, to show the writers do not rely on zeroed memory; the page
// tables start zeroed, as New's fresh guest RAM does.
func bootMem(size, faultEntry uint64) []byte {
	mem := make([]byte, abi.BootinfoAddr)
	for i := range mem[:abi.PML4Addr] {
		mem[i] = 0xa5
	}
	writeGDT(mem)
	writeTSS(mem)
	writeIDT(mem, faultEntry)
	writePageTables(mem, size)
	return mem
}

// seg is a decoded segment descriptor.
type seg struct {
	base, limit              uint64
	typ, s, dpl, p, l, db, g uint8
	avl                      uint8
}

func decodeSeg(d uint64) seg {
	return seg{
		base:  d>>16&0xffffff | d>>56<<24,
		limit: d&0xffff | d>>48&0xf<<16,
		typ:   uint8(d >> 40 & 0xf), s: uint8(d >> 44 & 1), dpl: uint8(d >> 45 & 3), p: uint8(d >> 47 & 1),
		avl: uint8(d >> 52 & 1), l: uint8(d >> 53 & 1), db: uint8(d >> 54 & 1), g: uint8(d >> 55 & 1),
	}
}

func gdtEntry(mem []byte, sel uint16) uint64 {
	return le.Uint64(mem[abi.GDTAddr+uint64(sel&^7):])
}

func TestGDT(t *testing.T) {
	mem := bootMem(64<<20, abi.RuntimeAddr)
	if d := gdtEntry(mem, 0); d != 0 {
		t.Errorf("null descriptor %#x", d)
	}
	// Code types: 0xb = execute/read, accessed; data 0x3 = read/write, accessed.
	tests := []struct {
		sel  uint16
		want seg
	}{
		{selKernelCode, seg{limit: 0xfffff, typ: 0xb, s: 1, dpl: 0, p: 1, l: 1, db: 0, g: 1}},
		{selKernelData, seg{limit: 0xfffff, typ: 0x3, s: 1, dpl: 0, p: 1, db: 1, g: 1}},
		{selUserCode32, seg{limit: 0xfffff, typ: 0xb, s: 1, dpl: 3, p: 1, l: 0, db: 1, g: 1}},
		{selUserData, seg{limit: 0xfffff, typ: 0x3, s: 1, dpl: 3, p: 1, db: 1, g: 1}},
		{selUserCode, seg{limit: 0xfffff, typ: 0xb, s: 1, dpl: 3, p: 1, l: 1, db: 0, g: 1}},
	}
	for _, tc := range tests {
		if got := decodeSeg(gdtEntry(mem, tc.sel)); got != tc.want {
			t.Errorf("selector %#x: %+v, want %+v", tc.sel, got, tc.want)
		}
	}
	// The 16-byte TSS descriptor: available 64-bit TSS (type 9), system (S=0).
	lo, hi := gdtEntry(mem, selTSS), gdtEntry(mem, selTSS+8)
	d := decodeSeg(lo)
	d.base |= hi << 32
	want := seg{base: abi.TSSAddr, limit: tssLimit, typ: 9, s: 0, dpl: 0, p: 1}
	if d != want {
		t.Errorf("TSS descriptor %+v, want %+v", d, want)
	}
	if hi>>32 != 0 {
		t.Errorf("TSS descriptor upper dword %#x, must be zero", hi>>32)
	}
	if (selTSS+16)/8 > gdtEntries {
		t.Errorf("TSS descriptor beyond the GDT's %d entries", gdtEntries)
	}
}

// ioAllowed checks an I/O access from ring 3 as the CPU does: it reads the
// two bitmap bytes holding the port's bits, faulting if either lies past the
// TSS limit, and allows the access only if all size bits are clear.
func ioAllowed(mem []byte, limit uint64, port, size int) bool {
	tss := mem[abi.TSSAddr:]
	off := uint64(le.Uint16(tss[102:])) + uint64(port/8)
	if off+1 > limit {
		return false
	}
	bits := le.Uint16(tss[off:])
	mask := uint16(1<<size-1) << (port % 8)
	return bits&mask == 0
}

func TestTSS(t *testing.T) {
	mem := bootMem(64<<20, abi.RuntimeAddr)
	tss := mem[abi.TSSAddr:]
	if rsp0 := le.Uint64(tss[4:]); rsp0 != abi.XStackTop {
		t.Errorf("RSP0 = %#x, want %#x", rsp0, abi.XStackTop)
	}
	for off := 12; off < 100; off += 4 { // RSP1-2, IST1-7: unused, must be zero
		if v := le.Uint32(tss[off:]); v != 0 {
			t.Errorf("TSS +%d = %#x, want 0", off, v)
		}
	}
	// Bytes past the limit are zero here: only the limit can deny those ports.
	clear(mem[abi.TSSAddr+tssLimit+1 : abi.PML4Addr])
	base, end := abi.HCPortBase, abi.HCPortBase+abi.HCMax
	for port := 0; port < 0x10000; port++ {
		want := port >= base && port < end
		if got := ioAllowed(mem, tssLimit, port, 1); got != want {
			t.Errorf("inb/outb port %#x allowed = %v, want %v", port, got, want)
		}
	}
	// Hypercalls are 32-bit outs to HCPortBase+nr: the CPU checks four
	// bits, so a call number is usable only if nr+3 < HCMax. No call may be
	// numbered HCMax-3 or above.
	for nr := -3; nr < abi.HCMax+1; nr++ {
		want := nr >= 0 && nr+3 < abi.HCMax
		if got := ioAllowed(mem, tssLimit, base+nr, 4); got != want {
			t.Errorf("outl to hypercall %d (port %#x) allowed = %v, want %v", nr, base+nr, got, want)
		}
	}
	if abi.HCIoctl+3 >= abi.HCMax {
		t.Errorf("hypercall %d cannot be made with a 32-bit out", abi.HCIoctl)
	}
	// The byte after the bitmap, inside the limit, is all ones (Intel SDM).
	if b := mem[abi.TSSAddr+tssLimit]; b != 0xff {
		t.Errorf("last bitmap byte %#x, want 0xff", b)
	}
}

func TestIDT(t *testing.T) {
	for _, faultEntry := range []uint64{abi.RuntimeAddr + 0x2000, 0xfedc_ba98_8765_4320} {
		mem := bootMem(64<<20, faultEntry)
		for v := 0; v < 256; v++ {
			lo := le.Uint64(mem[abi.IDTAddr+v*16:])
			hi := le.Uint64(mem[abi.IDTAddr+v*16+8:])
			if v >= 32 {
				if lo != 0 || hi != 0 {
					t.Errorf("vector %d: %#x %#x, want not present", v, lo, hi)
				}
				continue
			}
			off := lo&0xffff | lo>>48<<16 | hi<<32
			sel, ist := lo>>16&0xffff, lo>>32&7
			typ, s, dpl, p := lo>>40&0xf, lo>>44&1, lo>>45&3, lo>>47&1
			wantDPL := uint64(0)
			if v == 3 || v == 4 { // int3, into: allowed from ring 3
				wantDPL = 3
			}
			if want := faultEntry + uint64(v)*abi.FaultStubSize; off != want {
				t.Errorf("vector %d: handler %#x, want %#x", v, off, want)
			}
			if sel != selKernelCode || ist != 0 || typ != 0xe || s != 0 || dpl != wantDPL || p != 1 || lo>>35&0x1f != 0 || hi>>32 != 0 {
				t.Errorf("vector %d: selector %#x ist %d type %#x s %d dpl %d p %d, want 0x8 0 0xe 0 %d 1",
					v, sel, ist, typ, s, dpl, p, wantDPL)
			}
		}
	}
}

// translate walks the 4-level page tables like the MMU for an access from
// ring 3 or 0; ok is false when the address is not mapped.
func translate(t *testing.T, mem []byte, cr3, va uint64) (pa uint64, user, write, ok bool) {
	const addrMask = 0x000ffffffffff000
	table := cr3 & addrMask
	user, write = true, true
	for level := 3; level >= 0; level-- {
		idx := va >> (12 + 9*level) & 511
		if table+idx*8+8 > uint64(len(mem)) {
			t.Fatalf("va %#x: level %d table at %#x outside the tables", va, level, table)
		}
		e := le.Uint64(mem[table+idx*8:])
		if e&pteP == 0 {
			return 0, false, false, false
		}
		user = user && e&pteUS != 0
		write = write && e&pteRW != 0
		if e&ptePS != 0 && level == 3 {
			t.Fatalf("va %#x: PS set in the PML4 (reserved)", va)
		}
		if level == 0 || e&ptePS != 0 {
			pageSize := uint64(1) << (12 + 9*level)
			if e&addrMask&(pageSize-1) != 0 {
				t.Fatalf("va %#x: level %d entry %#x has reserved address bits", va, level, e)
			}
			return e&addrMask | va&(pageSize-1), user, write, true
		}
		table = e & addrMask
	}
	panic("unreachable")
}

func TestPageTables(t *testing.T) {
	const (
		unmapped = iota
		super    // present, ring 0 only
		usr      // present, ring 3 too
	)
	names := []string{"unmapped", "supervisor", "user"}
	for _, size := range []uint64{64 << 20, 1<<30 + 2<<20, abi.MemMax} {
		mem := bootMem(size, abi.RuntimeAddr)
		check := func(va, wantPA uint64, want int) {
			t.Helper()
			pa, user, write, ok := translate(t, mem, abi.PML4Addr, va)
			got := unmapped
			if ok {
				got = super
				if user {
					got = usr
				}
				if pa != wantPA || !write {
					t.Errorf("size %#x: va %#x -> pa %#x writable %v, want %#x, writable", size, va, pa, write, wantPA)
				}
			}
			if got != want {
				t.Errorf("size %#x: va %#x: got %v, want %v", size, va, names[got], names[want])
			}
		}
		// The runtime's low 4 MiB: identity.
		for _, tc := range []struct {
			va   uint64
			want int
		}{
			{0, unmapped}, {0xfff, unmapped},
			{0x1000, super}, // GDT
			{abi.IDTAddr, super}, {abi.TSSAddr, super}, {abi.PML4Addr, super}, {abi.PT0Addr, super},
			{abi.PDPTDmapAddr, super}, {abi.PDLowAddr, super},
			{abi.BootinfoAddr - 1, super},
			{abi.BootinfoAddr, usr}, {abi.ArgsAddr, usr},
			{abi.XStackTop - 8, usr}, {abi.XStackTop, usr},
			{abi.RuntimeAddr, usr}, {0x1fffff, usr}, {0x200000, usr}, {abi.UserMin - 1, usr},
		} {
			check(tc.va, tc.va, tc.want)
		}
		// The program's space starts empty.
		for _, va := range []uint64{abi.UserMin, size - 1, 1<<30 - 1, 1 << 39, abi.DmapBase - 1} {
			check(va, 0, unmapped)
		}
		// The direct map reaches all of RAM and nothing past it.
		for pa := uint64(0); pa < abi.MemMax+4<<20; pa += 2 << 20 {
			want := unmapped
			if pa < size {
				want = usr
			}
			check(abi.DmapBase+pa+0x1234, pa+0x1234, want)
		}
	}
}

// TestLayout checks that the CPU's structures do not overlap and all sit in
// supervisor-only pages.
func TestLayout(t *testing.T) {
	areas := []struct {
		name      string
		start, sz uint64
	}{
		{"GDT", abi.GDTAddr, gdtEntries * 8},
		{"IDT", abi.IDTAddr, 256 * 16},
		{"TSS", abi.TSSAddr, tssLimit + 1},
		{"PML4", abi.PML4Addr, 4096},
		{"PDPT", abi.PDPTAddr, 4096},
		{"PD", abi.PDAddr, abi.MemMax >> 30 * 4096},
		{"PT0", abi.PT0Addr, 4096},
		{"PDPT of the direct map", abi.PDPTDmapAddr, 4096},
		{"PD of the low 1 GiB", abi.PDLowAddr, 4096},
	}
	for i, a := range areas {
		for p := a.start &^ 0xfff; p < a.start+a.sz; p += 4096 {
			if !supervisorOnly(p) {
				t.Errorf("%s page %#x is user-accessible", a.name, p)
			}
		}
		for _, b := range areas[i+1:] {
			if a.start < b.start+b.sz && b.start < a.start+a.sz {
				t.Errorf("%s [%#x,+%#x) overlaps %s [%#x,+%#x)", a.name, a.start, a.sz, b.name, b.start, b.sz)
			}
		}
	}
	if supervisorOnly(abi.BootinfoAddr) || supervisorOnly(abi.XStackTop-8) {
		t.Error("the boot page or the exception stack is not the runtime's to read")
	}
}

func TestBootSregs(t *testing.T) {
	mem := bootMem(64<<20, abi.RuntimeAddr)
	for _, xsave := range []bool{false, true} {
		s := bootSregs(xsave)
		if s.Cs.Selector != 0x2b || s.Cs.Dpl != 3 || s.Cs.L != 1 || s.Cs.Db != 0 || s.Cs.Present != 1 || s.Cs.S != 1 || s.Cs.Type&8 == 0 {
			t.Errorf("CS %+v: want selector 0x2b, DPL 3, 64-bit code", s.Cs)
		}
		for name, d := range map[string]kvm.Segment{"SS": s.Ss, "DS": s.Ds, "ES": s.Es, "FS": s.Fs, "GS": s.Gs} {
			if d.Selector != 0x23 || d.Dpl != 3 || d.Present != 1 || d.Type != 3 {
				t.Errorf("%s %+v: want selector 0x23, DPL 3, writable data", name, d)
			}
		}
		// What iret would load from the GDT matches what KVM is told.
		for _, sr := range []kvm.Segment{s.Cs, s.Ss} {
			g := decodeSeg(gdtEntry(mem, sr.Selector))
			if g.dpl != sr.Dpl || g.typ != sr.Type || g.l != sr.L || g.db != sr.Db || g.p != sr.Present || g.s != sr.S || g.g != sr.G || uint8(sr.Selector&3) != g.dpl {
				t.Errorf("selector %#x: sregs %+v, GDT %+v", sr.Selector, sr, g)
			}
		}
		// TR: busy 64-bit TSS, as KVM requires.
		if s.Tr.Selector != selTSS || s.Tr.Base != abi.TSSAddr || s.Tr.Limit != tssLimit || s.Tr.Type != 11 || s.Tr.Present != 1 || s.Tr.S != 0 {
			t.Errorf("TR %+v", s.Tr)
		}
		if s.Gdt.Base != abi.GDTAddr || s.Gdt.Limit != gdtEntries*8-1 || s.Idt.Base != abi.IDTAddr || s.Idt.Limit != 256*16-1 {
			t.Errorf("GDT %+v IDT %+v", s.Gdt, s.Idt)
		}
		if s.Cr3 != abi.PML4Addr {
			t.Errorf("CR3 %#x", s.Cr3)
		}
		if s.Cr0&(cr0PE|cr0PG) != cr0PE|cr0PG || s.Cr4&cr4PAE == 0 || s.Efer&(eferLME|eferLMA|eferSCE) != eferLME|eferLMA|eferSCE {
			t.Errorf("CR0 %#x CR4 %#x EFER %#x: not long mode with syscall", s.Cr0, s.Cr4, s.Efer)
		}
		if (s.Cr4&cr4OSXSAVE != 0) != xsave {
			t.Errorf("xsave %v: CR4 %#x", xsave, s.Cr4)
		}
	}
}

func TestBootMSRs(t *testing.T) {
	const entry = abi.RuntimeAddr + 0x40
	msrs := map[uint32]uint64{}
	for _, m := range bootMSRs(entry) {
		msrs[m.Index] = m.Data
	}
	star := msrs[msrSTAR]
	// syscall: CS = STAR[47:32], SS = that + 8. sysret (64-bit): CS =
	// STAR[63:48] + 16, SS = STAR[63:48] + 8, both with RPL 3.
	sysCS, sysSS := star>>32&0xfffc, star>>32&0xfffc+8
	retCS, retSS := (star>>48+16)|3, (star>>48+8)|3
	if sysCS != selKernelCode || sysSS != selKernelData || retCS != 0x2b || retSS != 0x23 {
		t.Errorf("STAR %#x: syscall CS %#x SS %#x, sysret CS %#x SS %#x; want 0x8 0x10 0x2b 0x23", star, sysCS, sysSS, retCS, retSS)
	}
	mem := bootMem(64<<20, abi.RuntimeAddr)
	if g := decodeSeg(gdtEntry(mem, uint16(retCS))); g.l != 1 || g.dpl != 3 {
		t.Errorf("sysret CS %#x is not 64-bit ring-3 code in the GDT: %+v", retCS, g)
	}
	if g := decodeSeg(gdtEntry(mem, uint16(sysCS))); g.l != 1 || g.dpl != 0 {
		t.Errorf("syscall CS %#x is not 64-bit ring-0 code in the GDT: %+v", sysCS, g)
	}
	if msrs[msrLSTAR] != entry {
		t.Errorf("LSTAR %#x, want %#x", msrs[msrLSTAR], entry)
	}
	// SFMASK: TF(8) IF(9) DF(10) IOPL(12-13) NT(14) AC(18), as Linux.
	if want := uint64(1<<8 | 1<<9 | 1<<10 | 3<<12 | 1<<14 | 1<<18); msrs[msrSFMASK] != want {
		t.Errorf("SFMASK %#x, want %#x", msrs[msrSFMASK], want)
	}
}

// elfSeg is one PT_LOAD of a test runtime.
type elfSeg struct {
	vaddr, memsz uint64
	data         []byte
}

// mkELF writes an x86-64 ET_EXEC with the given PT_LOADs.
func mkELF(segs []elfSeg) []byte {
	var b bytes.Buffer
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: 1,
		Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: uint16(len(segs))}
	copy(h.Ident[:], "\x7fELF\x02\x01\x01")
	binary.Write(&b, le, &h)
	off := uint64(64 + 56*len(segs))
	for _, s := range segs {
		binary.Write(&b, le, &elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: off,
			Vaddr: s.vaddr, Paddr: s.vaddr, Filesz: uint64(len(s.data)), Memsz: s.memsz, Align: 4096})
		off += uint64(len(s.data))
	}
	for _, s := range segs {
		b.Write(s.data)
	}
	return b.Bytes()
}

func TestParseRuntime(t *testing.T) {
	const end = abi.RuntimeAddr + 0x10000
	stubs := uint64(32 * abi.FaultStubSize)
	tests := []struct {
		name string
		edit func(h *abi.RuntimeHeader, segs *[]elfSeg)
		raw  func(b []byte) []byte
		err  string // "" if valid
	}{
		{name: "valid"},
		{name: "segment ends at UserMin", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) { (*s)[0].memsz = abi.UserMin - abi.RuntimeAddr }},
		{name: "two segments", edit: func(h *abi.RuntimeHeader, s *[]elfSeg) {
			*s = append(*s, elfSeg{vaddr: 0x200000, memsz: 0x1000, data: []byte{0xc3}})
			h.Start = 0x200000
		}},
		{name: "not ELF", raw: func([]byte) []byte { return []byte("#!/bin/sh\necho not a runtime\n") }, err: "runtime:"},
		{name: "ELF32", raw: func(b []byte) []byte { b[elf.EI_CLASS] = byte(elf.ELFCLASS32); return b }, err: "runtime"},
		{name: "arm64", raw: func(b []byte) []byte { le.PutUint16(b[18:], uint16(elf.EM_AARCH64)); return b }, err: "not an x86-64 executable"},
		{name: "ET_DYN", raw: func(b []byte) []byte { le.PutUint16(b[16:], uint16(elf.ET_DYN)); return b }, err: "not an x86-64 executable"},
		{name: "segment below RuntimeAddr", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) { (*s)[0].vaddr = abi.RuntimeAddr - 0x1000 }, err: "runtime: segment"},
		{name: "segment past UserMin", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) { (*s)[0].memsz = abi.UserMin - abi.RuntimeAddr + 1 }, err: "runtime: segment"},
		{name: "memsz wraps", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) { (*s)[0].memsz = math.MaxUint64 }, err: "runtime: segment"},
		{name: "second segment at UserMin", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) {
			*s = append(*s, elfSeg{vaddr: abi.UserMin, memsz: 0x1000, data: []byte{1}})
		}, err: "runtime: segment"},
		{name: "second segment at the top", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) {
			*s = append(*s, elfSeg{vaddr: math.MaxUint64 - 0xfff, memsz: 0x2000, data: []byte{1}})
		}, err: "runtime: segment"},
		{name: "filesz > memsz", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) {
			(*s)[0].data, (*s)[0].memsz = make([]byte, 0x2000), 0x1fff // entries still inside
		}, err: "runtime: segment"},
		{name: "no PT_LOAD", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) { *s = nil }, err: "no segment at"},
		{name: "first segment not at RuntimeAddr", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) { (*s)[0].vaddr += 0x1000 }, err: "no segment at"},
		{name: "header cut short", edit: func(_ *abi.RuntimeHeader, s *[]elfSeg) { (*s)[0].data = []byte("KFRN\x01\x00\x00\x00\x00\x01\x10\x00") }, err: "header"},
		{name: "bad magic", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Magic ^= 1 }, err: "bad header magic"},
		{name: "ABI version", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Abi_version = abi.Version + 1 }, err: "rebake"},
		{name: "start below", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Start = abi.RuntimeAddr - 1 }, err: "entry point"},
		{name: "start at the end", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Start = end }, err: "entry point"},
		{name: "start at the last byte", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Start = end - 1 }},
		{name: "syscall entry 0", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Syscall_entry = 0 }, err: "entry point"},
		{name: "async entry 0", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Async_entry = 0 }, err: "entry point"},
		{name: "fault stubs past the end", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Fault_entry = end - stubs + 1 }, err: "entry point"},
		{name: "fault stubs end at the end", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Fault_entry = end - stubs }},
		{name: "fault stubs start below", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Fault_entry = abi.RuntimeAddr - 0x100 }, err: "entry point"},
		{name: "fault stubs wrap", edit: func(h *abi.RuntimeHeader, _ *[]elfSeg) { h.Fault_entry = math.MaxUint64 - 0x100 }, err: "entry point"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := abi.RuntimeHeader{Magic: abi.RuntimeMagic, Abi_version: abi.Version,
				Start: abi.RuntimeAddr + 0x100, Syscall_entry: abi.RuntimeAddr + 0x200, Async_entry: abi.RuntimeAddr + 0x300, Fault_entry: abi.RuntimeAddr + 0x1000}
			segs := []elfSeg{{vaddr: abi.RuntimeAddr, memsz: end - abi.RuntimeAddr}}
			if tc.edit != nil {
				tc.edit(&h, &segs)
			}
			// The header starts the first segment (unless a case cut it short).
			if len(segs) > 0 && segs[0].data == nil {
				segs[0].data = bytes.Repeat([]byte{0x90}, 0x220)
			}
			if len(segs) > 0 && len(segs[0].data) >= 32 {
				var hb bytes.Buffer
				binary.Write(&hb, le, &h)
				copy(segs[0].data, hb.Bytes())
			}
			b := mkELF(segs)
			if tc.raw != nil {
				b = tc.raw(b)
			}
			rt, err := ParseRuntime(b)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rt.Header != h {
				t.Errorf("header %+v, want %+v", rt.Header, h)
			}
			mem := make([]byte, abi.UserMin)
			rt.load(mem)
			for _, s := range segs {
				if !bytes.Equal(mem[s.vaddr:s.vaddr+uint64(len(s.data))], s.data) {
					t.Errorf("segment at %#x not loaded", s.vaddr)
				}
			}
		})
	}
}
