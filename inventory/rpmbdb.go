package inventory

import (
	"encoding/binary"
	"fmt"
)

// Berkeley DB hash database layout (libdb's dbinc/db_page.h), as rpm's
// var/lib/rpm/Packages uses it through RHEL 8, CentOS 7 and Amazon Linux 2.
const (
	bdbHashMagic      = 0x061561
	bdbPageHeaderSize = 26
	bdbHashMetaPage   = 8
	bdbHashPage       = 13
	bdbHashUnsorted   = 2 // hash pages of old databases (RHEL 5)
	bdbOverflowPage   = 7
	bdbKeyData        = 1 // H_KEYDATA: an item stored on the page
	bdbOffPage        = 3 // H_OFFPAGE: an item on a chain of overflow pages
	bdbOffPageSize    = 12
)

// ParseRPMBerkeleyDB reads the packages of an rpm Packages file in Berkeley
// DB hash format held in memory: every value of the hash table is an rpm
// header, stored on its page or on a chain of overflow pages.
func ParseRPMBerkeleyDB(file string, data []byte) ([]Package, error) {
	if len(data) < 512 {
		return nil, fmt.Errorf("%s: %d bytes, too short for a Berkeley DB", file, len(data))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if order.Uint32(data[12:16]) != bdbHashMagic {
		order = binary.BigEndian
		if order.Uint32(data[12:16]) != bdbHashMagic {
			return nil, fmt.Errorf("%s: not a Berkeley DB hash database", file)
		}
	}
	pageSize := order.Uint32(data[20:24])
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return nil, fmt.Errorf("%s: page size %d", file, pageSize)
	}
	if data[24] != 0 {
		return nil, fmt.Errorf("%s: encrypted Berkeley DB", file)
	}
	if data[25] != bdbHashMetaPage {
		return nil, fmt.Errorf("%s: first page has type %d, want hash metadata", file, data[25])
	}
	last := order.Uint32(data[32:36])
	pages := uint32(len(data) / int(pageSize))
	if last >= pages {
		return nil, fmt.Errorf("%s: last page %d beyond the file's %d pages", file, last, pages)
	}
	page := func(n uint32) []byte { return data[n*pageSize : (n+1)*pageSize] }
	var out []Package
	for n := uint32(1); n <= last; n++ {
		p := page(n)
		if typ := p[25]; typ != bdbHashPage && typ != bdbHashUnsorted {
			continue
		}
		entries := int(order.Uint16(p[20:22]))
		if entries%2 != 0 || bdbPageHeaderSize+2*entries > len(p) {
			return nil, fmt.Errorf("%s: page %d: %d entries", file, n, entries)
		}
		offsets := make([]int, entries)
		for i := range offsets {
			offsets[i] = int(order.Uint16(p[bdbPageHeaderSize+2*i:]))
			if offsets[i] < bdbPageHeaderSize+2*entries || offsets[i] >= len(p) {
				return nil, fmt.Errorf("%s: page %d: item %d at offset %d", file, n, i, offsets[i])
			}
		}
		// Items are key, value, key, value…; values are the odd ones.
		for i := 1; i < entries; i += 2 {
			off := offsets[i]
			var blob []byte
			switch p[off] {
			case bdbKeyData:
				// Items fill the page from its end: an item ends where the
				// one before it begins.
				end := len(p)
				if i > 0 {
					end = offsets[i-1]
				}
				if end <= off {
					return nil, fmt.Errorf("%s: page %d: item %d overlaps", file, n, i)
				}
				blob = p[off+1 : end]
				if len(blob) <= 8 {
					continue // rpm's header instance counter, not a header
				}
			case bdbOffPage:
				if off+bdbOffPageSize > len(p) {
					return nil, fmt.Errorf("%s: page %d: truncated off-page item", file, n)
				}
				var err error
				blob, err = bdbOverflow(data, pageSize, order, order.Uint32(p[off+4:]), order.Uint32(p[off+8:]))
				if err != nil {
					return nil, fmt.Errorf("%s: page %d: %w", file, n, err)
				}
			default:
				continue
			}
			pkg, err := ParseRPMHeader(blob)
			if err != nil {
				return nil, fmt.Errorf("%s: page %d item %d: %w", file, n, i, err)
			}
			if pkg.Name == "gpg-pubkey" {
				continue
			}
			out = append(out, pkg)
		}
	}
	return out, nil
}

// bdbOverflow concatenates a chain of overflow pages holding total bytes.
func bdbOverflow(data []byte, pageSize uint32, order binary.ByteOrder, first, total uint32) ([]byte, error) {
	if total > rpmMaxData+8+rpmMaxEntries*16 {
		return nil, fmt.Errorf("off-page item of %d bytes", total)
	}
	pages := uint32(len(data)) / pageSize
	out := make([]byte, 0, min(total, uint32(len(data))))
	seen := map[uint32]bool{}
	for n := first; n != 0; {
		if n >= pages || seen[n] {
			return nil, fmt.Errorf("overflow chain: bad page %d", n)
		}
		seen[n] = true
		p := data[n*pageSize : (n+1)*pageSize]
		if p[25] != bdbOverflowPage {
			return nil, fmt.Errorf("overflow chain: page %d has type %d", n, p[25])
		}
		// On overflow pages the "free area offset" holds the data length.
		l := uint32(order.Uint16(p[22:24]))
		if bdbPageHeaderSize+l > pageSize {
			return nil, fmt.Errorf("overflow page %d: %d bytes", n, l)
		}
		out = append(out, p[bdbPageHeaderSize:bdbPageHeaderSize+l]...)
		if uint32(len(out)) > total {
			return nil, fmt.Errorf("overflow chain longer than its %d bytes", total)
		}
		n = order.Uint32(p[16:20])
	}
	if uint32(len(out)) != total {
		return nil, fmt.Errorf("overflow chain holds %d of %d bytes", len(out), total)
	}
	return out, nil
}
