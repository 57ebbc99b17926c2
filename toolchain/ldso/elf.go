// What a dynamic loader reads from an ELF file: its header, PT_INTERP and
// the PT_DYNAMIC entries that name other objects.
package ldso

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Bounds on what one file may make the resolver read, far above any real
// object (Debian's largest libraries have a few hundred dynamic entries and
// string tables of a few hundred KiB).
const (
	maxInterp  = 4096 // PATH_MAX
	maxDynamic = 1 << 20
	maxStrtab  = 64 << 20
	// maxSearchDirs bounds a DT_RPATH or DT_RUNPATH: each need may try
	// each directory.
	maxSearchDirs = 1024
	dynEntrySz    = 16 // Elf64_Dyn
	ehdrSize      = 64 // Elf64_Ehdr
	flag1NoDefl   = 0x800
)

// errOtherClass and errOtherMachine mark a file ld.so skips while
// searching: an ELF file built for another class or machine.
var (
	errOtherClass   = errors.New("wrong ELF class")
	errOtherMachine = errors.New("wrong machine")
)

// elfInfo is what the loader reads from one object.
type elfInfo struct {
	typ        elf.Type
	interp     string
	needed     []string // DT_NEEDED, DT_FILTER and DT_AUXILIARY in the order ld.so loads them
	auxiliary  map[int]bool
	soname     string
	rpath      string
	runpath    string
	hasRPath   bool
	hasRunPath bool
	flags1     uint64
}

// readELF reads the header and dynamic section of the file at host path
// p. A file for another class or machine gives errOtherClass or
// errOtherMachine (wrapped); anything else that is not a well-formed
// x86-64 ELF file is an error ld.so would stop at too.
func readELF(p string) (*elfInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var hdr [ehdrSize]byte
	if n, err := io.ReadFull(f, hdr[:]); err != nil {
		if n < len(elf.ELFMAG) || string(hdr[:4]) != elf.ELFMAG {
			return nil, errors.New("file too short to be an ELF object")
		}
		return nil, errors.New("truncated ELF header")
	}
	if string(hdr[:4]) != elf.ELFMAG {
		return nil, errors.New("invalid ELF header (not an ELF object)")
	}
	if c := elf.Class(hdr[elf.EI_CLASS]); c != elf.ELFCLASS64 {
		return nil, fmt.Errorf("%w (%v)", errOtherClass, c)
	}
	if d := elf.Data(hdr[elf.EI_DATA]); d != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("ELF file data encoding is %v, not little-endian", d)
	}
	if m := elf.Machine(binary.LittleEndian.Uint16(hdr[18:])); m != elf.EM_X86_64 {
		return nil, fmt.Errorf("%w (%v)", errOtherMachine, m)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, fmt.Errorf("malformed ELF file: %w", err)
	}
	info := &elfInfo{typ: ef.Type}
	if ef.Type != elf.ET_DYN && ef.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("ELF %v, not a program or shared library", ef.Type)
	}
	var dyn *elf.Prog
	for _, p := range ef.Progs {
		if (p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC || p.Type == elf.PT_LOAD) &&
			(p.Off > uint64(st.Size()) || p.Filesz > uint64(st.Size())-p.Off) {
			return nil, fmt.Errorf("truncated or malformed ELF file: %v segment at offset %#x beyond the end of the file", p.Type, p.Off)
		}
		switch p.Type {
		case elf.PT_INTERP:
			if p.Filesz > maxInterp {
				return nil, fmt.Errorf("PT_INTERP of %d bytes, longer than a path can be", p.Filesz)
			}
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return nil, fmt.Errorf("reading PT_INTERP: %w", err)
			}
			info.interp = cstring(b)
		case elf.PT_DYNAMIC:
			if dyn == nil {
				dyn = p
			}
		}
	}
	if dyn == nil {
		return info, nil
	}
	if err := readDynamic(ef, dyn, info); err != nil {
		return nil, fmt.Errorf("dynamic section: %w", err)
	}
	return info, nil
}

// readDynamic decodes PT_DYNAMIC as ld.so does: through the program
// headers, not the section table (which may be stripped).
func readDynamic(ef *elf.File, dyn *elf.Prog, info *elfInfo) error {
	if dyn.Filesz > maxDynamic {
		return fmt.Errorf("%d bytes, more than %d", dyn.Filesz, maxDynamic)
	}
	b := make([]byte, dyn.Filesz)
	if _, err := dyn.ReadAt(b, 0); err != nil {
		return err
	}
	type ent struct {
		tag elf.DynTag
		val uint64
	}
	var ents []ent
	var strtab, strsz uint64
	var haveStrtab bool
	for i := 0; i+dynEntrySz <= len(b); i += dynEntrySz {
		e := ent{elf.DynTag(binary.LittleEndian.Uint64(b[i:])), binary.LittleEndian.Uint64(b[i+8:])}
		if e.tag == elf.DT_NULL {
			break
		}
		switch e.tag {
		case elf.DT_STRTAB:
			strtab, haveStrtab = e.val, true
		case elf.DT_STRSZ:
			strsz = e.val
		case elf.DT_FLAGS_1:
			info.flags1 = e.val
		}
		ents = append(ents, e)
	}
	var strs []byte
	str := func(off uint64) (string, error) {
		if strs == nil {
			var err error
			if strs, err = readStrtab(ef, strtab, strsz, haveStrtab); err != nil {
				return "", err
			}
		}
		if off >= uint64(len(strs)) {
			return "", fmt.Errorf("string at %#x beyond the string table (%d bytes)", off, len(strs))
		}
		for i, c := range strs[off:] {
			if c == 0 {
				return string(strs[off : off+uint64(i)]), nil
			}
		}
		return "", fmt.Errorf("string at %#x not terminated", off)
	}
	for _, e := range ents {
		var dst *string
		switch e.tag {
		case elf.DT_NEEDED, elf.DT_FILTER, elf.DT_AUXILIARY:
			s, err := str(e.val)
			if err != nil {
				return fmt.Errorf("%v: %w", e.tag, err)
			}
			if e.tag == elf.DT_AUXILIARY {
				if info.auxiliary == nil {
					info.auxiliary = map[int]bool{}
				}
				info.auxiliary[len(info.needed)] = true
			}
			info.needed = append(info.needed, s)
			continue
		case elf.DT_SONAME:
			dst = &info.soname
		case elf.DT_RPATH:
			dst, info.hasRPath = &info.rpath, true
		case elf.DT_RUNPATH:
			dst, info.hasRunPath = &info.runpath, true
		default:
			continue
		}
		s, err := str(e.val)
		if err != nil {
			return fmt.Errorf("%v: %w", e.tag, err)
		}
		*dst = s
	}
	for _, p := range []struct {
		tag elf.DynTag
		s   string
	}{{elf.DT_RPATH, info.rpath}, {elf.DT_RUNPATH, info.runpath}} {
		if n := strings.Count(p.s, ":") + strings.Count(p.s, "\n"); n >= maxSearchDirs {
			return fmt.Errorf("%v of %d directories, more than %d", p.tag, n+1, maxSearchDirs)
		}
	}
	// ld.so ignores DT_RPATH where DT_RUNPATH is present.
	if info.hasRunPath {
		info.rpath, info.hasRPath = "", false
	}
	return nil
}

// readStrtab reads the string table at virtual address addr, found in the
// PT_LOAD segment that holds it.
func readStrtab(ef *elf.File, addr, size uint64, have bool) ([]byte, error) {
	if !have {
		return nil, errors.New("names objects but has no DT_STRTAB")
	}
	if size > maxStrtab {
		return nil, fmt.Errorf("string table of %d bytes, more than %d", size, maxStrtab)
	}
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr-p.Vaddr >= p.Filesz {
			continue
		}
		off := addr - p.Vaddr
		size = min(size, p.Filesz-off)
		b := make([]byte, size)
		if _, err := p.ReadAt(b, int64(off)); err != nil {
			return nil, fmt.Errorf("reading the string table: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("string table at %#x is in no loaded segment", addr)
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Check reads the headers and dynamic section of the ELF file at host path
// p as the resolver does: nil when it is an x86-64 program or shared
// object whose needs can be read.
func Check(p string) error {
	_, err := readELF(p)
	return err
}
