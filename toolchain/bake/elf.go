package bake

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ukfork/ukfork/hypervisor/abi"
	"github.com/ukfork/ukfork/toolchain/ldso"
)

// CheckProgram makes sure path is an executable ukfork can bake: an x86-64
// Linux ELF (static, static-PIE or dynamic) whose segments fit the guest's
// program area. Each refusal says what to do instead.
func CheckProgram(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != elf.ELFMAG {
		if string(magic[:2]) == "#!" {
			return fmt.Errorf("%s is a script, not an executable: bake the interpreter (e.g. busybox) and pass the script with --file", path)
		}
		return fmt.Errorf("%s is not an ELF executable: give a static x86-64 Linux program", path)
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return fmt.Errorf("%s is a truncated or malformed ELF file (%v): rebuild it", path, err)
	}
	defer ef.Close()
	if ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s is built for %s %s; ukfork runs x86-64 (amd64) programs: rebuild it for x86-64", path, ef.Class, ef.Machine)
	}
	if ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
		return fmt.Errorf("%s is an ELF %s, not an executable", path, ef.Type)
	}
	var loads int
	var lo, hi uint64 = ^uint64(0), 0
	for _, p := range ef.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			loads++
			if p.Filesz > p.Memsz || p.Off+p.Filesz < p.Off || p.Off+p.Filesz > uint64(st.Size()) || p.Vaddr+p.Memsz < p.Vaddr {
				return fmt.Errorf("%s is a truncated or malformed ELF file (segment at %#x beyond the file): rebuild it", path, p.Vaddr)
			}
			lo, hi = min(lo, p.Vaddr), max(hi, p.Vaddr+p.Memsz)
		}
	}
	if loads == 0 {
		return fmt.Errorf("%s has no loadable segments: rebuild it", path)
	}
	if ef.Type == elf.ET_EXEC && lo < abi.UserMin {
		return fmt.Errorf("%s loads at %#x, below %#x where the ukfork runtime lives: link it at the default address (drop -Ttext / custom linker scripts)", path, lo, abi.UserMin)
	}
	if ef.Type == elf.ET_DYN {
		lo, hi = abi.PIEBase, abi.PIEBase+(hi-lo&^0xfff)
	}
	if hi > abi.MemMax {
		return fmt.Errorf("%s needs memory up to %#x, beyond the largest guest (%d GiB)", path, hi, abi.MemMax>>30)
	}
	return nil
}

// Deps finds the interpreter and libraries of a program on this host as
// its loader would (glibc's or musl's rules, no environment variables),
// with dlopen naming libraries it loads itself (--lib).
func Deps(program string, dlopen []string) (*ldso.Deps, error) {
	return ldso.Resolve(ldso.Config{}, program, dlopen)
}

var errNoProgram = errors.New("no program given")
