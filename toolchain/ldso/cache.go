// glibc's /etc/ld.so.cache, the "glibc-ld.so.cache1.1" format ldconfig
// writes (optionally behind the old "ld.so-1.7.0" table), read without
// running anything.
package ldso

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	cacheMagicNew = "glibc-ld.so.cache1.1"
	cacheMagicOld = "ld.so-1.7.0"
	maxCache      = 64 << 20

	cacheHeaderSize = 48 // struct cache_file_new
	cacheEntrySize  = 24 // struct file_entry_new
	oldEntrySize    = 12 // struct file_entry

	// cacheFlagsX8664 is FLAG_ELF_LIBC6|FLAG_X8664_LIB64: the only flags
	// an x86-64 ld.so accepts (_dl_cache_check_flags).
	cacheFlagsX8664 = 0x0303

	// hwcapExtension marks an entry whose hwcap's low 32 bits index the
	// glibc-hwcaps subdirectory names of the extension section.
	hwcapExtension   = 1 << 62
	extensionMagic   = 0xEAA42174
	extensionHWCaps  = 1 // cache_extension_tag_glibc_hwcaps
	maxExtensionSect = 1024
)

// Cache is a parsed ld.so.cache.
type Cache struct {
	Entries []CacheEntry
}

// CacheEntry is one library in the cache.
type CacheEntry struct {
	Flags int32
	Name  string // the soname looked up
	Path  string // the file
	HWCap uint64
	// HWCaps is the glibc-hwcaps subdirectory (e.g. "x86-64-v3") of an
	// entry with hwcapExtension set; "" for the baseline.
	HWCaps string
}

// ParseCache decodes the cache file's bytes. Every count and offset is
// checked against the file before it is used.
func ParseCache(b []byte) (*Cache, error) {
	if len(b) > maxCache {
		return nil, fmt.Errorf("%d bytes, more than %d", len(b), maxCache)
	}
	start := 0
	if bytes.HasPrefix(b, []byte(cacheMagicOld)) {
		// struct cache_file: magic, nlibs at 12, then the old entries;
		// the new table follows, 8-aligned.
		if len(b) < 16 {
			return nil, errors.New("truncated old-format header")
		}
		n := uint64(binary.LittleEndian.Uint32(b[12:]))
		end := 16 + n*oldEntrySize
		end = (end + 7) &^ 7
		if end > uint64(len(b)) {
			return nil, fmt.Errorf("old-format table of %d entries beyond the end of the file", n)
		}
		start = int(end)
	}
	d := b[start:]
	if len(d) < cacheHeaderSize || !bytes.HasPrefix(d, []byte(cacheMagicNew)) {
		return nil, fmt.Errorf("not a %q cache", cacheMagicNew)
	}
	le := binary.LittleEndian
	nlibs := uint64(le.Uint32(d[20:]))
	if endian := d[28]; endian != 0 && endian != 2 { // cache_file_new.flags: unset, or little-endian
		return nil, fmt.Errorf("cache for another byte order (flags %#x)", endian)
	}
	extOff := uint64(le.Uint32(d[32:]))
	if nlibs > uint64(len(d)-cacheHeaderSize)/cacheEntrySize {
		return nil, fmt.Errorf("%d entries do not fit in %d bytes", nlibs, len(d))
	}
	str := func(off uint32) (string, error) {
		if uint64(off) >= uint64(len(d)) {
			return "", fmt.Errorf("string offset %#x beyond the end of the cache", off)
		}
		i := bytes.IndexByte(d[off:], 0)
		if i < 0 {
			return "", fmt.Errorf("string at %#x not terminated", off)
		}
		return string(d[off : int(off)+i]), nil
	}
	hwcaps, err := parseExtension(d, extOff, str)
	if err != nil {
		return nil, fmt.Errorf("extension section: %w", err)
	}
	c := &Cache{Entries: make([]CacheEntry, 0, nlibs)}
	for i := uint64(0); i < nlibs; i++ {
		e := d[cacheHeaderSize+i*cacheEntrySize:]
		ce := CacheEntry{Flags: int32(le.Uint32(e)), HWCap: le.Uint64(e[16:])}
		if ce.Name, err = str(le.Uint32(e[4:])); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if ce.Path, err = str(le.Uint32(e[8:])); err != nil {
			return nil, fmt.Errorf("entry %d (%s): %w", i, ce.Name, err)
		}
		if ce.HWCap&hwcapExtension != 0 {
			idx := uint64(uint32(ce.HWCap))
			if idx >= uint64(len(hwcaps)) {
				return nil, fmt.Errorf("entry %d (%s): glibc-hwcaps index %d, but the cache names %d", i, ce.Name, idx, len(hwcaps))
			}
			ce.HWCaps = hwcaps[idx]
		}
		c.Entries = append(c.Entries, ce)
	}
	return c, nil
}

// parseExtension reads the glibc-hwcaps names from the extension
// directory at off (0: none).
func parseExtension(d []byte, off uint64, str func(uint32) (string, error)) ([]string, error) {
	if off == 0 {
		return nil, nil
	}
	le := binary.LittleEndian
	if off%4 != 0 || off+8 > uint64(len(d)) {
		return nil, fmt.Errorf("at %#x, beyond the end of the cache", off)
	}
	if m := le.Uint32(d[off:]); m != extensionMagic {
		return nil, fmt.Errorf("bad magic %#x", m)
	}
	n := uint64(le.Uint32(d[off+4:]))
	if n > maxExtensionSect || off+8+n*16 > uint64(len(d)) {
		return nil, fmt.Errorf("%d sections do not fit in the cache", n)
	}
	var names []string
	for i := uint64(0); i < n; i++ {
		s := d[off+8+i*16:]
		tag, soff, size := le.Uint32(s), uint64(le.Uint32(s[8:])), uint64(le.Uint32(s[12:]))
		if tag != extensionHWCaps {
			continue
		}
		if soff+size > uint64(len(d)) || size%4 != 0 {
			return nil, fmt.Errorf("glibc-hwcaps section at %#x (%d bytes) beyond the end of the cache", soff, size)
		}
		for j := uint64(0); j < size; j += 4 {
			name, err := str(le.Uint32(d[soff+j:]))
			if err != nil {
				return nil, fmt.Errorf("glibc-hwcaps name %d: %w", j/4, err)
			}
			names = append(names, name)
		}
	}
	return names, nil
}

// Lookup finds name as glibc's search_cache does, for an ld.so that
// accepts the glibc-hwcaps subdirectories in accept (best first): among
// the x86-64 entries for name, the accepted hwcaps entry of highest
// priority (they come first in the cache), else the first baseline one.
// Entries for legacy hwcaps (platform and hwcap bits without the
// extension) are skipped: an image is made for any x86-64 machine.
func (c *Cache) Lookup(name string, accept []string) string {
	best, bestPrio := "", 0
	for _, e := range c.Entries {
		if e.Name != name || e.Flags != cacheFlagsX8664 {
			continue
		}
		if e.HWCap&hwcapExtension != 0 {
			prio := 0
			for i, a := range accept {
				if a == e.HWCaps {
					prio = i + 1
					break
				}
			}
			if prio > 0 && (best == "" || prio < bestPrio) {
				best, bestPrio = e.Path, prio
			}
			continue
		}
		if best != "" {
			break
		}
		if e.HWCap == 0 {
			return e.Path
		}
	}
	return best
}
