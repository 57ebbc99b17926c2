// Crafted inputs for the tests: small ELF objects, ld.so.cache files and
// root directories made byte by byte.
package ldso

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// obj describes a crafted ELF object.
type obj struct {
	interp  string
	needed  []string
	soname  string
	rpath   string
	runpath string
	flags1  uint64
	class   elf.Class   // default ELFCLASS64
	machine elf.Machine // default EM_X86_64
	typ     elf.Type    // default ET_DYN
	dynSize uint64      // overrides PT_DYNAMIC's p_filesz
	strOff  uint64      // added to DT_NEEDED offsets (beyond the table)
}

// bytes lays out: header, program headers (PT_LOAD over the whole file,
// PT_DYNAMIC, PT_INTERP), interpreter, string table, dynamic section.
func (o obj) bytes() []byte {
	le := binary.LittleEndian
	var strtab bytes.Buffer
	strtab.WriteByte(0)
	str := func(s string) uint64 {
		off := uint64(strtab.Len())
		strtab.WriteString(s)
		strtab.WriteByte(0)
		return off
	}
	type dyn struct {
		tag elf.DynTag
		val uint64
	}
	var dyns []dyn
	for _, n := range o.needed {
		dyns = append(dyns, dyn{elf.DT_NEEDED, str(n) + o.strOff})
	}
	if o.soname != "" {
		dyns = append(dyns, dyn{elf.DT_SONAME, str(o.soname)})
	}
	if o.rpath != "" {
		dyns = append(dyns, dyn{elf.DT_RPATH, str(o.rpath)})
	}
	if o.runpath != "" {
		dyns = append(dyns, dyn{elf.DT_RUNPATH, str(o.runpath)})
	}
	if o.flags1 != 0 {
		dyns = append(dyns, dyn{elf.DT_FLAGS_1, o.flags1})
	}
	nph := 2
	if o.interp != "" {
		nph = 3
	}
	interpOff := uint64(64 + 56*nph)
	strOff := interpOff + uint64(len(o.interp)+1)
	dynOff := strOff + uint64(strtab.Len())
	dynOff = (dynOff + 7) &^ 7
	dyns = append(dyns, dyn{elf.DT_STRTAB, strOff}, dyn{elf.DT_STRSZ, uint64(strtab.Len())}, dyn{elf.DT_NULL, 0})
	size := dynOff + uint64(16*len(dyns))

	b := make([]byte, size)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	if o.class != 0 {
		b[elf.EI_CLASS] = byte(o.class)
	}
	typ, mach := elf.ET_DYN, elf.EM_X86_64
	if o.typ != 0 {
		typ = o.typ
	}
	if o.machine != 0 {
		mach = o.machine
	}
	le.PutUint16(b[16:], uint16(typ))
	le.PutUint16(b[18:], uint16(mach))
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[32:], 64) // e_phoff
	le.PutUint16(b[52:], 64) // e_ehsize
	le.PutUint16(b[54:], 56) // e_phentsize
	le.PutUint16(b[56:], uint16(nph))
	ph := func(i int, t elf.ProgType, off, sz uint64) {
		p := b[64+56*i:]
		le.PutUint32(p, uint32(t))
		le.PutUint32(p[4:], uint32(elf.PF_R))
		le.PutUint64(p[8:], off)  // p_offset
		le.PutUint64(p[16:], off) // p_vaddr
		le.PutUint64(p[24:], off) // p_paddr
		le.PutUint64(p[32:], sz)  // p_filesz
		le.PutUint64(p[40:], sz)  // p_memsz
		le.PutUint64(p[48:], 8)
	}
	ph(0, elf.PT_LOAD, 0, size)
	dynSize := uint64(16 * len(dyns))
	if o.dynSize != 0 {
		dynSize = o.dynSize
	}
	ph(1, elf.PT_DYNAMIC, dynOff, dynSize)
	if o.interp != "" {
		ph(2, elf.PT_INTERP, interpOff, uint64(len(o.interp)+1))
		copy(b[interpOff:], o.interp)
	}
	copy(b[strOff:], strtab.Bytes())
	for i, d := range dyns {
		le.PutUint64(b[dynOff+uint64(16*i):], uint64(d.tag))
		le.PutUint64(b[dynOff+uint64(16*i)+8:], d.val)
	}
	return b
}

// cacheEnt is one entry of a crafted ld.so.cache.
type cacheEnt struct {
	flags       int32
	name, path  string
	hwcap       uint64
	hwcapsIndex int // with hwcap's extension bit: index into names
}

// mkCache writes a new-format cache; hwcaps names the glibc-hwcaps
// subdirectories of its extension section (none: no extension).
func mkCache(ents []cacheEnt, hwcaps []string) []byte {
	le := binary.LittleEndian
	hdr := make([]byte, cacheHeaderSize+cacheEntrySize*len(ents))
	copy(hdr, cacheMagicNew)
	le.PutUint32(hdr[20:], uint32(len(ents)))
	hdr[28] = 2
	var strs bytes.Buffer
	str := func(s string) uint32 {
		off := uint32(len(hdr) + strs.Len())
		strs.WriteString(s)
		strs.WriteByte(0)
		return off
	}
	for i, e := range ents {
		p := hdr[cacheHeaderSize+cacheEntrySize*i:]
		le.PutUint32(p, uint32(e.flags))
		le.PutUint32(p[4:], str(e.name))
		le.PutUint32(p[8:], str(e.path))
		hw := e.hwcap
		if hw&hwcapExtension != 0 {
			hw |= uint64(e.hwcapsIndex)
		}
		le.PutUint64(p[16:], hw)
	}
	var offs []uint32
	for _, h := range hwcaps {
		offs = append(offs, str(h))
	}
	b := append(hdr, strs.Bytes()...)
	if len(hwcaps) == 0 {
		return b
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	ext := uint32(len(b))
	le.PutUint32(b[32:], ext)
	sect := ext + 8 + 16
	b = le.AppendUint32(b, extensionMagic)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, extensionHWCaps)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, sect)
	b = le.AppendUint32(b, uint32(4*len(offs)))
	for _, o := range offs {
		b = le.AppendUint32(b, o)
	}
	return b
}

// tree is a crafted root: a path's value is file contents, or "-> TARGET"
// for a symlink.
type tree map[string]any

func (tr tree) make(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for p, v := range tr {
		h := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch v := v.(type) {
		case obj:
			err = os.WriteFile(h, v.bytes(), 0o755)
		case []byte:
			err = os.WriteFile(h, v, 0o644)
		case string:
			if t, ok := strings.CutPrefix(v, "-> "); ok {
				err = os.Symlink(t, h)
			} else if v == "dir" {
				err = os.MkdirAll(h, 0o755)
			} else {
				err = os.WriteFile(h, []byte(v), 0o644)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}
