package inventory

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"testing/fstest"

	"modernc.org/sqlite/vfs"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// rpm header tags and types (rpm's lib/rpmtag.h).
const (
	rpmTagName      = 1000
	rpmTagVersion   = 1001
	rpmTagRelease   = 1002
	rpmTagEpoch     = 1003
	rpmTagArch      = 1022
	rpmTagSourceRPM = 1044

	rpmTypeInt32       = 4
	rpmTypeString      = 6
	rpmTypeStringArray = 8
	rpmTypeI18NString  = 9

	// rpm itself refuses headers with more entries or data than this
	// (lib/header.c: HEADER_TAGS_MAX, HEADER_DATA_MAX).
	rpmMaxEntries = 0xffff
	rpmMaxData    = 256 << 20
)

// ParseRPMHeader decodes one rpm header blob as rpmdb.sqlite stores it (the
// header without its 8-byte magic) into a package.
func ParseRPMHeader(blob []byte) (Package, error) {
	if len(blob) < 8 {
		return Package{}, fmt.Errorf("rpm header: %d bytes, too short", len(blob))
	}
	il := binary.BigEndian.Uint32(blob[0:4])
	dl := binary.BigEndian.Uint32(blob[4:8])
	if il == 0 || il > rpmMaxEntries || dl > rpmMaxData {
		return Package{}, fmt.Errorf("rpm header: %d entries, %d data bytes: out of range", il, dl)
	}
	need := 8 + uint64(il)*16 + uint64(dl)
	if uint64(len(blob)) < need {
		return Package{}, fmt.Errorf("rpm header: needs %d bytes, blob has %d", need, len(blob))
	}
	data := blob[8+il*16 : need]
	p := Package{Type: TypeRPM}
	var version, release string
	epoch := -1
	str := func(off uint32) (string, error) {
		if off >= uint32(len(data)) {
			return "", fmt.Errorf("rpm header: string offset %d beyond %d data bytes", off, len(data))
		}
		for i := off; i < uint32(len(data)); i++ {
			if data[i] == 0 {
				return string(data[off:i]), nil
			}
		}
		return "", fmt.Errorf("rpm header: unterminated string at %d", off)
	}
	for i := uint32(0); i < il; i++ {
		e := blob[8+i*16 : 8+i*16+16]
		tag := binary.BigEndian.Uint32(e[0:4])
		typ := binary.BigEndian.Uint32(e[4:8])
		off := binary.BigEndian.Uint32(e[8:12])
		count := binary.BigEndian.Uint32(e[12:16])
		switch tag {
		case rpmTagName, rpmTagVersion, rpmTagRelease, rpmTagArch, rpmTagSourceRPM:
			if typ != rpmTypeString && typ != rpmTypeI18NString && typ != rpmTypeStringArray {
				return Package{}, fmt.Errorf("rpm header: tag %d has type %d, want a string", tag, typ)
			}
			s, err := str(off)
			if err != nil {
				return Package{}, err
			}
			switch tag {
			case rpmTagName:
				p.Name = s
			case rpmTagVersion:
				version = s
			case rpmTagRelease:
				release = s
			case rpmTagArch:
				p.Arch = s
			case rpmTagSourceRPM:
				p.Source = s
			}
		case rpmTagEpoch:
			if typ != rpmTypeInt32 || count < 1 || uint64(off)+4 > uint64(len(data)) {
				return Package{}, fmt.Errorf("rpm header: malformed epoch")
			}
			epoch = int(binary.BigEndian.Uint32(data[off : off+4]))
		}
	}
	if p.Name == "" || version == "" {
		return Package{}, fmt.Errorf("rpm header without name or version")
	}
	p.Version = version
	if release != "" {
		p.Version += "-" + release
	}
	if epoch > 0 {
		p.Version = fmt.Sprintf("%d:%s", epoch, p.Version)
	}
	return p, nil
}

// ParseRPMSQLite reads the packages of an rpmdb.sqlite file held in memory;
// SQLite reads it through a read-only in-memory file system, so the
// database never touches the disk.
func ParseRPMSQLite(ctx context.Context, file string, data []byte) ([]Package, error) {
	if len(data) < 16 || string(data[:15]) != "SQLite format 3" {
		return nil, fmt.Errorf("%s: not an SQLite database", file)
	}
	id, fsys, err := vfs.New(fstest.MapFS{"rpmdb.sqlite": &fstest.MapFile{Data: data, Mode: 0o444}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	defer fsys.Close()
	db, err := sql.Open("sqlite", "file:rpmdb.sqlite?vfs="+id+"&mode=ro&immutable=1")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, "SELECT hnum, blob FROM Packages ORDER BY hnum")
	if err != nil {
		return nil, fmt.Errorf("%s: reading Packages table: %w", file, err)
	}
	defer rows.Close()
	var out []Package
	for rows.Next() {
		var hnum int64
		var blob []byte
		if err := rows.Scan(&hnum, &blob); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		p, err := ParseRPMHeader(blob)
		if err != nil {
			return nil, fmt.Errorf("%s: package %d: %w", file, hnum, err)
		}
		// gpg-pubkey entries are imported keys, not installed software.
		if p.Name == "gpg-pubkey" {
			continue
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}
