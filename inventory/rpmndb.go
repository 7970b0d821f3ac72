package inventory

import (
	"encoding/binary"
	"fmt"
)

// rpm's ndb package database (lib/backend/ndb/rpmpkg.c), SUSE's default:
// a 32-byte header, slot pages of 4096 bytes holding 16-byte slots (the
// header takes the first two), and blobs addressed in 16-byte blocks, each a
// 16-byte blob header followed by an rpm header.
const (
	ndbHeaderMagic = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic   = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic   = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbPageSize    = 4096
	ndbSlotSize    = 16
	ndbBlockSize   = 16
	// rpm refuses more slot pages than this; so does stet.
	ndbMaxSlotPages = 2048
)

// ParseRPMNDB reads the packages of an rpm Packages.db (ndb) file held in
// memory.
func ParseRPMNDB(file string, data []byte) ([]Package, error) {
	le := binary.LittleEndian
	if len(data) < 32 || le.Uint32(data[0:4]) != ndbHeaderMagic {
		return nil, fmt.Errorf("%s: not an rpm ndb database", file)
	}
	if v := le.Uint32(data[4:8]); v != 0 {
		return nil, fmt.Errorf("%s: ndb version %d", file, v)
	}
	npages := le.Uint32(data[12:16])
	if npages == 0 || npages > ndbMaxSlotPages {
		return nil, fmt.Errorf("%s: %d slot pages", file, npages)
	}
	end := int(npages) * ndbPageSize
	if end > len(data) {
		return nil, fmt.Errorf("%s: %d slot pages, file holds %d bytes", file, npages, len(data))
	}
	var out []Package
	for off := 2 * ndbSlotSize; off < end; off += ndbSlotSize {
		s := data[off : off+ndbSlotSize]
		if le.Uint32(s[0:4]) != ndbSlotMagic {
			return nil, fmt.Errorf("%s: bad slot at offset %d", file, off)
		}
		idx := le.Uint32(s[4:8])
		if idx == 0 {
			continue // a free slot
		}
		blk := uint64(le.Uint32(s[8:12])) * ndbBlockSize
		if blk+16 > uint64(len(data)) {
			return nil, fmt.Errorf("%s: package %d: blob offset %d beyond the file", file, idx, blk)
		}
		b := data[blk:]
		if le.Uint32(b[0:4]) != ndbBlobMagic || le.Uint32(b[4:8]) != idx {
			return nil, fmt.Errorf("%s: package %d: no blob at offset %d", file, idx, blk)
		}
		n := uint64(le.Uint32(b[12:16]))
		if 16+n > uint64(len(b)) {
			return nil, fmt.Errorf("%s: package %d: blob of %d bytes beyond the file", file, idx, n)
		}
		p, err := ParseRPMHeader(b[16 : 16+n])
		if err != nil {
			return nil, fmt.Errorf("%s: package %d: %w", file, idx, err)
		}
		if p.Name == "gpg-pubkey" {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}
