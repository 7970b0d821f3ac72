package inventory

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readTestdata(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDpkgStatusReal(t *testing.T) {
	pkgs, err := ParseDpkgStatus("/var/lib/dpkg/status", readTestdata(t, "debian-bookworm-minbase/var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 88 {
		t.Errorf("got %d packages, want 88", len(pkgs))
	}
	byName := map[string]Package{}
	for _, p := range pkgs {
		byName[p.Name] = p
	}
	want := map[string]Package{
		"adduser": {Type: TypeDeb, Name: "adduser", Version: "3.134", Arch: "all"},
		"apt":     {Type: TypeDeb, Name: "apt", Version: "2.6.1", Arch: "amd64"},
	}
	for name, w := range want {
		if diff := cmp.Diff(w, byName[name]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	// "Source: name (version)" carries the source version.
	var withSrcVer int
	for _, p := range pkgs {
		if p.SourceVersion != "" {
			withSrcVer++
			if strings.ContainsAny(p.Source, " ()") {
				t.Errorf("%s: source %q not split", p.Name, p.Source)
			}
		}
	}
	if withSrcVer == 0 {
		t.Error("no package with a source version")
	}
}

func TestParseDpkgStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Package
		wantErr string
	}{
		{
			name: "removed and config-files stanzas are not installed",
			in: "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n" +
				"Package: b\nStatus: deinstall ok config-files\nVersion: 2\n\n" +
				"Package: c\nStatus: purge ok not-installed\n\n",
			want: []Package{{Type: TypeDeb, Name: "a", Version: "1", Arch: "amd64"}},
		},
		{
			name: "distroless stanza without Status, CRLF, continuation lines",
			in:   "Package: tzdata\r\nVersion: 2024a-0+deb12u1\r\nArchitecture: all\r\nSource: tzdata\r\nDescription: x\r\n more\r\n",
			want: []Package{{Type: TypeDeb, Name: "tzdata", Version: "2024a-0+deb12u1", Arch: "all", Source: "tzdata"}},
		},
		{
			name: "several blank lines between stanzas",
			in:   "\n\nPackage: a\nVersion: 1\n\n\n\nPackage: b\nVersion: 2\n",
			want: []Package{{Type: TypeDeb, Name: "a", Version: "1"}, {Type: TypeDeb, Name: "b", Version: "2"}},
		},
		{name: "line without colon", in: "Package: a\nbogus\n", wantErr: "status:2:1: expected"},
		{name: "stanza without Package", in: "Version: 1\n", wantErr: "status:1:1: package stanza without a Package field"},
		{name: "stanza without Version", in: "Package: a\nStatus: install ok installed\n", wantErr: "package a has no Version"},
		{name: "continuation first", in: " x\n", wantErr: "status:1:1: continuation line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDpkgStatus("status", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAPKInstalled(t *testing.T) {
	got, err := ParseAPKInstalled("installed", readTestdata(t, "apk/installed"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{Type: TypeAPK, Name: "musl", Version: "1.1.22-r2", Arch: "x86_64", Source: "musl"},
		{Type: TypeAPK, Name: "busybox", Version: "1.30.1-r2", Arch: "x86_64", Source: "busybox"},
		{Type: TypeAPK, Name: "nginx", Version: "1.17.1-r0", Arch: "x86_64", Source: "nginx"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []struct{ in, want string }{
		{"P:a\nnot a field\n", "installed:2:1"},
		{"V:1\n", "installed:1:1: package record without a P: line"},
		{"P:a\n\n", "package a has no V: line"},
	} {
		if _, err := ParseAPKInstalled("installed", []byte(bad.in)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: err = %v, want %q", bad.in, err, bad.want)
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	got, err := ParseOSRelease("os-release", readTestdata(t, "debian-bookworm-minbase/etc/os-release"))
	if err != nil {
		t.Fatal(err)
	}
	want := &OS{ID: "debian", Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux 12 (bookworm)", VersionID: "12", VersionCodename: "bookworm"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got, err = ParseOSRelease("os-release", []byte("# comment\nNAME='Wolfi'\nPRETTY_NAME=\"A \\\"quoted\\\" \\$name\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (&OS{ID: "linux", Name: "Wolfi", PrettyName: `A "quoted" $name`}); !cmp.Equal(want, got) {
		t.Errorf("(-want +got):\n%s", cmp.Diff(want, got))
	}
	if _, err := ParseOSRelease("os-release", []byte("ID=x\nnonsense\n")); err == nil || !strings.Contains(err.Error(), "os-release:2:1") {
		t.Errorf("err = %v, want a positioned error", err)
	}
}

// rpmHeader encodes an rpm header blob (as rpmdb.sqlite stores it) with the
// given string tags and an optional epoch.
func rpmHeader(strs map[uint32]string, epoch int) []byte {
	var index, data bytes.Buffer
	entry := func(tag, typ, off, count uint32) {
		binary.Write(&index, binary.BigEndian, [4]uint32{tag, typ, off, count})
	}
	for _, tag := range []uint32{rpmTagName, rpmTagVersion, rpmTagRelease, rpmTagArch, rpmTagSourceRPM} {
		s, ok := strs[tag]
		if !ok {
			continue
		}
		entry(tag, rpmTypeString, uint32(data.Len()), 1)
		data.WriteString(s)
		data.WriteByte(0)
	}
	if epoch >= 0 {
		for data.Len()%4 != 0 {
			data.WriteByte(0)
		}
		entry(rpmTagEpoch, rpmTypeInt32, uint32(data.Len()), 1)
		binary.Write(&data, binary.BigEndian, uint32(epoch))
	}
	var out bytes.Buffer
	binary.Write(&out, binary.BigEndian, uint32(index.Len()/16))
	binary.Write(&out, binary.BigEndian, uint32(data.Len()))
	out.Write(index.Bytes())
	out.Write(data.Bytes())
	return out.Bytes()
}

type rpmPkg struct {
	name, version, release, arch, srpm string
	epoch                              int
}

// rpmSQLite builds an rpmdb.sqlite with rpm's schema and returns its bytes.
func rpmSQLite(t testing.TB, pkgs ...rpmPkg) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		"CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)",
		"CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES Packages(hnum))",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, pk := range pkgs {
		blob := rpmHeader(map[uint32]string{rpmTagName: pk.name, rpmTagVersion: pk.version, rpmTagRelease: pk.release, rpmTagArch: pk.arch, rpmTagSourceRPM: pk.srpm}, pk.epoch)
		if _, err := db.Exec("INSERT INTO Packages (blob) VALUES (?)", blob); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRPMSQLite(t *testing.T) {
	data := rpmSQLite(t,
		rpmPkg{"bash", "5.2.26", "3.fc40", "x86_64", "bash-5.2.26-3.fc40.src.rpm", -1},
		rpmPkg{"gpg-pubkey", "a15b79cc", "63d04c2c", "", "", -1},
		rpmPkg{"shadow-utils", "4.15.1", "3.fc40", "x86_64", "shadow-utils-4.15.1-3.fc40.src.rpm", 2},
	)
	got, err := ParseRPMSQLite(context.Background(), "rpmdb.sqlite", data)
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{Type: TypeRPM, Name: "bash", Version: "5.2.26-3.fc40", Arch: "x86_64", Source: "bash-5.2.26-3.fc40.src.rpm"},
		{Type: TypeRPM, Name: "shadow-utils", Version: "2:4.15.1-3.fc40", Arch: "x86_64", Source: "shadow-utils-4.15.1-3.fc40.src.rpm"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseRPMSQLite(context.Background(), "x", []byte("not sqlite at all, no")); err == nil {
		t.Error("want an error for a non-SQLite file")
	}
}

func TestParseRPMHeaderHostile(t *testing.T) {
	good := rpmHeader(map[uint32]string{rpmTagName: "a", rpmTagVersion: "1"}, -1)
	tests := map[string][]byte{
		"short":          good[:5],
		"truncated data": good[:len(good)-1],
		"huge count":     append([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1}, good[8:]...),
		"no name":        rpmHeader(map[uint32]string{rpmTagVersion: "1"}, -1),
	}
	for name, blob := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseRPMHeader(blob); err == nil {
				t.Error("want an error")
			}
		})
	}
	// A string offset pointing past the data.
	bad := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(bad[8+8:], 1000)
	if _, err := ParseRPMHeader(bad); err == nil {
		t.Error("offset past data: want an error")
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		typ, a, b string
		want      int
	}{
		{TypeAPK, "1.17.1-r0", "1.17.2-r0", -1},
		{TypeAPK, "1.17.2-r1", "1.17.2-r0", 1},
		{TypeAPK, "1.2.3_rc1-r0", "1.2.3-r0", -1},
		{TypeAPK, "1.10-r0", "1.9-r0", 1},
		{TypeDeb, "1:1.0-1", "2.0-1", 1},
		{TypeDeb, "1.0~rc1-1", "1.0-1", -1},
		{TypeDeb, "2.36-9+deb12u4", "2.36-9+deb12u10", -1},
		{TypeDeb, "5.2.15-2+b2", "5.2.15-2+b2", 0},
		{TypeRPM, "1:1.0-1.fc40", "2.0-1.fc40", 1},
		{TypeRPM, "4.18.2-1.fc40", "4.18.10-1.fc40", -1},
		{TypeRPM, "1.0~rc1-1", "1.0-1", -1},
		{"other", "b", "a", 1},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.a+" vs "+tt.b, func(t *testing.T) {
			if got := CompareVersions(tt.typ, tt.a, tt.b); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
			if got := CompareVersions(tt.typ, tt.b, tt.a); got != -tt.want {
				t.Errorf("reversed: got %d, want %d", got, -tt.want)
			}
		})
	}
}

// TestParseRPMBerkeleyDB reads Packages files written by Berkeley DB 5.3's
// db_load in both byte orders: headers on their hash page, and one spread
// over three overflow pages.
func TestParseRPMBerkeleyDB(t *testing.T) {
	want := []string{"bash 4.2.46-34.el7", "coreutils 8.22-24.el7_9.2", "glibc-all-langpacks 2.17-326.el7_9", "openssl-libs 1:1.0.2k-26.el7_9"}
	for _, name := range []string{"Packages", "Packages-bigendian"} {
		t.Run(name, func(t *testing.T) {
			pkgs, err := ParseRPMBerkeleyDB(name, readTestdata(t, "rpm/"+name))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pkgs {
				got = append(got, p.Name+" "+p.Version)
			}
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	data := readTestdata(t, "rpm/Packages")
	for name, mutate := range map[string]func([]byte){
		"bad magic":         func(b []byte) { b[12] = 0 },
		"page size":         func(b []byte) { b[20], b[21] = 0x10, 0x10 },
		"last page too far": func(b []byte) { b[32] = 200 },
		"overflow loop":     func(b []byte) { corruptOverflow(b) },
	} {
		t.Run(name, func(t *testing.T) {
			b := append([]byte(nil), data...)
			mutate(b)
			if _, err := ParseRPMBerkeleyDB("Packages", b); err == nil {
				t.Error("want an error")
			}
		})
	}
}

// corruptOverflow points the first overflow page of a 4096-byte-page
// database at itself.
func corruptOverflow(b []byte) {
	for n := 1; (n+1)*4096 <= len(b); n++ {
		p := b[n*4096 : (n+1)*4096]
		if p[25] == bdbOverflowPage {
			binary.LittleEndian.PutUint32(p[16:20], uint32(n))
			return
		}
	}
}

func FuzzParseRPMBerkeleyDB(f *testing.F) {
	f.Add(readTestdata(f, "rpm/Packages"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseRPMBerkeleyDB("Packages", data)
	})
}

// ndbFile lays out an rpm ndb Packages.db as rpm's rpmpkg.c writes it: one
// slot page, blobs after it in 16-byte blocks.
func ndbFile(blobs ...[]byte) []byte {
	le := binary.LittleEndian
	out := make([]byte, ndbPageSize)
	le.PutUint32(out[0:], ndbHeaderMagic)
	le.PutUint32(out[12:], 1)
	for off := 2 * ndbSlotSize; off < ndbPageSize; off += ndbSlotSize {
		le.PutUint32(out[off:], ndbSlotMagic)
	}
	for i, blob := range blobs {
		slot := (2 + i) * ndbSlotSize
		blk := len(out) / ndbBlockSize
		le.PutUint32(out[slot+4:], uint32(i+1))
		le.PutUint32(out[slot+8:], uint32(blk))
		h := make([]byte, 16)
		le.PutUint32(h[0:], ndbBlobMagic)
		le.PutUint32(h[4:], uint32(i+1))
		le.PutUint32(h[12:], uint32(len(blob)))
		out = append(out, h...)
		out = append(out, blob...)
		out = append(out, make([]byte, 16)...) // tail
		for len(out)%ndbBlockSize != 0 {
			out = append(out, 0)
		}
		le.PutUint32(out[slot+12:], uint32((len(out)/ndbBlockSize)-blk))
	}
	return out
}

func TestParseRPMNDB(t *testing.T) {
	data := ndbFile(
		rpmHeader(map[uint32]string{rpmTagName: "aaa_base", rpmTagVersion: "84.87+git20180409.04c9dae", rpmTagRelease: "150300.10.3.1", rpmTagArch: "x86_64"}, -1),
		rpmHeader(map[uint32]string{rpmTagName: "gpg-pubkey", rpmTagVersion: "39db7c82", rpmTagRelease: "5f68629b"}, -1),
		rpmHeader(map[uint32]string{rpmTagName: "zypper", rpmTagVersion: "1.14.68", rpmTagRelease: "150400.3.32.1", rpmTagArch: "x86_64"}, -1),
	)
	pkgs, err := ParseRPMNDB("Packages.db", data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Name+" "+p.Version)
	}
	if diff := cmp.Diff([]string{"aaa_base 84.87+git20180409.04c9dae-150300.10.3.1", "zypper 1.14.68-150400.3.32.1"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for name, edit := range map[string]func([]byte) []byte{
		"bad magic":      func(b []byte) []byte { b[0] = 'X'; return b },
		"truncated blob": func(b []byte) []byte { return b[:len(b)-60] },
		"slot pages":     func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 9); return b },
		"bad slot":       func(b []byte) []byte { b[2*ndbSlotSize] = 'x'; return b },
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseRPMNDB("Packages.db", edit(append([]byte(nil), data...))); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func FuzzParseRPMNDB(f *testing.F) {
	f.Add(ndbFile(rpmHeader(map[uint32]string{rpmTagName: "a", rpmTagVersion: "1"}, -1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseRPMNDB("Packages.db", data)
	})
}
