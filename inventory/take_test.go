package inventory

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/stet-dev/stet/image"
	it "github.com/stet-dev/stet/image/imagetest"
)

// openLayout writes img to an OCI layout and opens it as stet would.
func openLayout(t testing.TB, img v1.Image) *image.Image {
	t.Helper()
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"t": img})
	im, err := image.Open(context.Background(), "oci:"+dir+":t", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func apkDB(pkgs ...string) string {
	var b strings.Builder
	for _, p := range pkgs {
		name, ver, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "C:Q1AAAA=\nP:%s\nV:%s\nA:x86_64\nS:1\nI:1\nT:%s\no:%s\nF:usr\n\n", name, ver, name, name)
	}
	return b.String()
}

func dpkgDB(pkgs ...string) string {
	var b strings.Builder
	for _, p := range pkgs {
		name, ver, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\nDescription: %s\n long\n\n", name, ver, name)
	}
	return b.String()
}

// got summarises an inventory as "name version @layer" lines.
func summary(inv *Inventory) []string {
	var out []string
	for _, p := range inv.Packages {
		s := fmt.Sprintf("%s %s %s @%d", p.Type, p.Name, p.Version, p.Layer.Index)
		if p.Layer.OrBelow {
			s += "+"
		}
		out = append(out, s)
	}
	return out
}

const alpineOS = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.1\nPRETTY_NAME=\"Alpine Linux v3.10\"\n"

func TestTake(t *testing.T) {
	status := string(readTestdata(t, "debian-bookworm-minbase/var/lib/dpkg/status"))
	osrel := string(readTestdata(t, "debian-bookworm-minbase/etc/os-release"))
	tests := []struct {
		name     string
		layers   [][]it.File
		want     []string
		wantOS   string
		wantWarn string
		wantErr  string
	}{
		{
			name: "alpine: nginx added in a later layer, busybox upgraded",
			layers: [][]it.File{
				{it.Dir("etc/"), {Path: "etc/os-release", Data: alpineOS}, it.Dir("lib/"), it.Dir("lib/apk/"), it.Dir("lib/apk/db/"), {Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "busybox=1.30.1-r2")}},
				{{Path: "app/server", Data: "binary"}},
				{{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "busybox=1.30.1-r3", "nginx=1.17.1-r0")}},
			},
			want:   []string{"apk busybox 1.30.1-r3 @2", "apk musl 1.1.22-r2 @0", "apk nginx 1.17.1-r0 @2"},
			wantOS: "alpine 3.10.1",
		},
		{
			name: "wolfi: /lib is a symlink to usr/lib, database under usr/lib/apk/db",
			layers: [][]it.File{
				{it.Symlink("lib", "usr/lib"), it.Dir("usr/"), it.Dir("usr/lib/"), it.Dir("usr/lib/apk/db/"), {Path: "usr/lib/apk/db/installed", Data: apkDB("wolfi-baselayout=20230201-r7", "glibc=2.39-r1")},
					{Path: "usr/lib/os-release", Data: "ID=wolfi\nVERSION_ID=20230201\n"}, it.Symlink("etc/os-release", "../usr/lib/os-release")},
				{{Path: "usr/lib/apk/db/installed", Data: apkDB("wolfi-baselayout=20230201-r7", "glibc=2.39-r2", "nginx-mainline=1.27.0-r0")}},
			},
			want:   []string{"apk glibc 2.39-r2 @1", "apk nginx-mainline 1.27.0-r0 @1", "apk wolfi-baselayout 20230201-r7 @0"},
			wantOS: "wolfi 20230201",
		},
		{
			name: "apk database written through the /lib symlink of a lower layer",
			layers: [][]it.File{
				{it.Symlink("lib", "usr/lib"), it.Dir("usr/lib/apk/db/"), {Path: "usr/lib/apk/db/installed", Data: apkDB("a=1-r0")}},
				{{Path: "lib/apk/db/installed", Data: apkDB("a=1-r0", "b=2-r0")}},
			},
			want: []string{"apk a 1-r0 @0", "apk b 2-r0 @1"},
		},
		{
			name: "real debian minbase status and os-release",
			layers: [][]it.File{
				{{Path: "etc/os-release", Data: osrel}, {Path: "var/lib/dpkg/status", Data: status}},
			},
			wantOS: "debian 12",
		},
		{
			name: "whiteout of the database in an upper layer",
			layers: [][]it.File{
				{{Path: "var/lib/dpkg/status", Data: dpkgDB("a=1")}},
				{it.Whiteout("var/lib/dpkg/status")},
			},
			want: nil,
		},
		{
			name: "whiteout of an ancestor directory",
			layers: [][]it.File{
				{{Path: "var/lib/dpkg/status", Data: dpkgDB("a=1")}},
				{it.Whiteout("var/lib")},
			},
			want: nil,
		},
		{
			name: "opaque directory hides the lower status.d entries",
			layers: [][]it.File{
				{it.Dir("var/lib/dpkg/status.d/"), {Path: "var/lib/dpkg/status.d/base-files", Data: dpkgDB("base-files=12.4")}, {Path: "var/lib/dpkg/status.d/base-files.md5sums", Data: "x"}, {Path: "var/lib/dpkg/status.d/tzdata", Data: dpkgDB("tzdata=2024a")}},
				{it.Dir("var/lib/dpkg/status.d/"), it.Opaque("var/lib/dpkg/status.d"), {Path: "var/lib/dpkg/status.d/tzdata", Data: dpkgDB("tzdata=2024b")}},
			},
			want: []string{"deb tzdata 2024b @1"},
		},
		{
			name: "distroless status.d, one file per package",
			layers: [][]it.File{
				{{Path: "var/lib/dpkg/status.d/base-files", Data: dpkgDB("base-files=12.4")}, {Path: "var/lib/dpkg/status.d/base-files.md5sums", Data: "d41d8 x"}},
				{{Path: "var/lib/dpkg/status.d/libc6", Data: dpkgDB("libc6=2.36-9")}},
			},
			want: []string{"deb base-files 12.4 @0", "deb libc6 2.36-9 @1"},
		},
		{
			name: "database restored after a whiteout is attributed to the restoring layer",
			layers: [][]it.File{
				{{Path: "var/lib/dpkg/status", Data: dpkgDB("a=1")}},
				{it.Whiteout("var/lib/dpkg/status")},
				{{Path: "var/lib/dpkg/status", Data: dpkgDB("a=1")}},
			},
			want: []string{"deb a 1 @2"},
		},
		{
			name: "hardlink to a database file earlier in the same layer",
			layers: [][]it.File{
				{{Path: "tmp/status.new", Data: dpkgDB("a=1")}, it.Hardlink("var/lib/dpkg/status", "tmp/status.new")},
			},
			want: []string{"deb a 1 @0"},
		},
		{
			name: "hardlink to a database in a lower layer",
			layers: [][]it.File{
				{{Path: "var/lib/dpkg/status-old", Data: dpkgDB("a=1")}},
				{it.Hardlink("var/lib/dpkg/status", "var/lib/dpkg/status-old")},
			},
			want: nil, // status-old is not a database path, so a lower-layer hardlink to it is not followed
		},
		{
			name: "rpm sqlite under usr/lib/sysimage with var/lib/rpm a symlink",
			layers: [][]it.File{
				{it.Symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm"), {Path: "usr/lib/sysimage/rpm/rpmdb.sqlite", Data: string(rpmSQLite(t, rpmPkg{"bash", "5.2.26", "3.fc40", "x86_64", "bash.src.rpm", -1}))},
					{Path: "etc/os-release", Data: "ID=fedora\nVERSION_ID=40\n"}},
			},
			want:   []string{"rpm bash 5.2.26-3.fc40 @0"},
			wantOS: "fedora 40",
		},
		{
			name: "rpm Berkeley DB (CentOS 7) rewritten unchanged in a later layer keeps its attribution",
			layers: [][]it.File{
				{{Path: "var/lib/rpm/Packages", Data: string(readTestdata(t, "rpm/Packages"))}, {Path: "etc/os-release", Data: "ID=\"centos\"\nVERSION_ID=\"7\"\n"}},
				{{Path: "var/lib/rpm/Packages", Data: string(readTestdata(t, "rpm/Packages-bigendian"))}},
			},
			want:   []string{"rpm bash 4.2.46-34.el7 @0", "rpm coreutils 8.22-24.el7_9.2 @0", "rpm glibc-all-langpacks 2.17-326.el7_9 @0", "rpm openssl-libs 1:1.0.2k-26.el7_9 @0"},
			wantOS: "centos 7",
		},
		{
			name: "rpm ndb (SUSE) behind the var/lib/rpm symlink",
			layers: [][]it.File{
				{it.Symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm"), {Path: "usr/lib/sysimage/rpm/Packages.db", Data: string(ndbFile(rpmHeader(map[uint32]string{rpmTagName: "zypper", rpmTagVersion: "1.14.68", rpmTagRelease: "1.1", rpmTagArch: "x86_64"}, -1)))}},
			},
			want: []string{"rpm zypper 1.14.68-1.1 @0"},
		},
		{
			name: "corrupt rpm ndb is an error",
			layers: [][]it.File{
				{{Path: "usr/lib/sysimage/rpm/Packages.db", Data: "RpmP\x00\x00\x00\x00"}},
			},
			wantErr: "not an rpm ndb database",
		},
		{
			name: "a plain file replacing the directory of a lower layer's database",
			layers: [][]it.File{
				{{Path: "var/lib/dpkg/status", Data: dpkgDB("a=1")}},
				{{Path: "var/lib/dpkg", Data: "not a directory any more"}},
			},
			want: nil,
		},
		{
			name: "symlink loop",
			layers: [][]it.File{
				{it.Symlink("var", "var")},
			},
			wantErr: "more than 40 symlinks",
		},
		{
			name: "corrupt visible database is an error",
			layers: [][]it.File{
				{{Path: "var/lib/dpkg/status", Data: "Package: a\ngarbage\n"}},
			},
			wantErr: "/var/lib/dpkg/status:2:1: expected",
		},
		{
			name: "corrupt database hidden by an upper layer is no error",
			layers: [][]it.File{
				{{Path: "var/lib/dpkg/status", Data: "Package: a\ngarbage\n"}},
				{{Path: "var/lib/dpkg/status", Data: dpkgDB("a=2")}},
			},
			want: []string{"deb a 2 @1"},
		},
		{
			name: "absolute and ./ entry names are relative to the root",
			layers: [][]it.File{
				{{Path: "/var/lib/dpkg/status", Data: dpkgDB("a=1")}, {Path: "./etc/os-release", Data: "ID=x\n"}},
			},
			want:   []string{"deb a 1 @0"},
			wantOS: "x ",
		},
		{
			name: "a symlink out of the known places is reported",
			layers: [][]it.File{
				{it.Symlink("var/lib/dpkg", "/opt/dpkg"), {Path: "opt/dpkg/status", Data: dpkgDB("a=1")}},
			},
			wantWarn: "var/lib/dpkg/status leads to opt/dpkg/status, which is not read",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var steps []it.Step
			for i, files := range tt.layers {
				steps = append(steps, it.Step{Layer: it.Layer(t, files...), CreatedBy: fmt.Sprintf("RUN step %d", i)})
			}
			im := openLayout(t, it.Image(t, steps...))
			inv, err := Take(context.Background(), im, Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := summary(inv)
			if tt.name == "real debian minbase status and os-release" {
				if len(got) != 88 {
					t.Errorf("got %d packages, want 88", len(got))
				}
			} else if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			gotOS := ""
			if inv.OS != nil {
				gotOS = inv.OS.ID + " " + inv.OS.VersionID
			}
			if gotOS != tt.wantOS {
				t.Errorf("os = %q, want %q", gotOS, tt.wantOS)
			}
			if tt.wantWarn != "" && !strings.Contains(strings.Join(inv.Warnings, "\n"), tt.wantWarn) {
				t.Errorf("warnings %q, want %q", inv.Warnings, tt.wantWarn)
			}
			for _, p := range inv.Packages {
				if p.Layer.CreatedBy != fmt.Sprintf("RUN step %d", p.Layer.Index) {
					t.Errorf("%s: created_by %q for layer %d", p.Name, p.Layer.CreatedBy, p.Layer.Index)
				}
			}
		})
	}
}

func TestTakeCache(t *testing.T) {
	img := it.Image(t,
		it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2")})},
		it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "nginx=1.17.1-r0")})},
	)
	im := openLayout(t, img)
	dir := t.TempDir()
	var reads atomic.Int64
	opts := Options{Cache: NewCache(dir), Progress: func(image.Layer, int64, int64) { reads.Add(1) }}
	first, err := Take(context.Background(), im, opts)
	if err != nil {
		t.Fatal(err)
	}
	if reads.Load() == 0 {
		t.Fatal("first inventory read no layer")
	}
	reads.Store(0)
	second, err := Take(context.Background(), im, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("warm cache: %d progress reports, want 0", n)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("cached inventory differs (-first +second):\n%s", diff)
	}
	// A corrupt entry is ignored and rewritten.
	files, _ := filepath.Glob(filepath.Join(dir, cacheVersion, "sha256", "*", "*.json"))
	if len(files) != 2 {
		t.Fatalf("cache holds %d entries, want 2", len(files))
	}
	if err := os.WriteFile(files[0], []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	reads.Store(0)
	third, err := Take(context.Background(), im, opts)
	if err != nil {
		t.Fatal(err)
	}
	if reads.Load() == 0 {
		t.Error("corrupt cache entry was trusted")
	}
	if diff := cmp.Diff(first, third); diff != "" {
		t.Errorf("(-first +third):\n%s", diff)
	}
	if s := NewCache(dir).get(im.Layers[0].ID()); s == nil && NewCache(dir).get(im.Layers[1].ID()) == nil {
		t.Error("corrupt entry not rewritten")
	}
}

// BenchmarkScanTar measures the walker over a layer of 20,000 small files
// with the dpkg database at the end, uncompressed.
func BenchmarkScanTar(b *testing.B) {
	files := make([]it.File, 0, 20_001)
	for i := 0; i < 20_000; i++ {
		files = append(files, it.File{Path: fmt.Sprintf("usr/share/doc/p%05d/copyright", i), Data: strings.Repeat("x", 512)})
	}
	files = append(files, it.File{Path: "var/lib/dpkg/status", Data: string(readTestdata(b, "debian-bookworm-minbase/var/lib/dpkg/status"))})
	tb := it.Tar(b, files...)
	b.SetBytes(int64(len(tb)))
	b.ResetTimer()
	for range b.N {
		s, err := ScanTar(context.Background(), bytes.NewReader(tb), Limits{})
		if err != nil || len(s.Entries) != 1 {
			b.Fatalf("%v, %d entries", err, len(s.Entries))
		}
	}
}

// BenchmarkParseDpkgStatus measures parsing a real minbase status file.
func BenchmarkParseDpkgStatus(b *testing.B) {
	data := readTestdata(b, "debian-bookworm-minbase/var/lib/dpkg/status")
	b.SetBytes(int64(len(data)))
	for range b.N {
		if _, err := ParseDpkgStatus("status", data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMergeFiles(t *testing.T) {
	list := func(files ...it.File) *FileList {
		fl, err := ListTar(context.Background(), bytes.NewReader(it.Tar(t, files...)), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return fl
	}
	got := MergeFiles([]*FileList{
		list(it.Dir("etc/"), it.File{Path: "etc/a", Data: "1"}, it.File{Path: "etc/b", Data: "2"}, it.Dir("opt/"), it.File{Path: "opt/x", Data: "x"}, it.Dir("d/"), it.File{Path: "d/f", Data: "f"}),
		list(it.Whiteout("etc/a"), it.Opaque("opt"), it.File{Path: "opt/y", Data: "y"}, it.File{Path: "d", Data: "now a file"}),
	})
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	if diff := cmp.Diff([]string{"d", "etc", "etc/b", "opt", "opt/y"}, paths); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got["opt/y"].Digest == "" || got["d"].Type != "file" {
		t.Errorf("%+v %+v", got["opt/y"], got["d"])
	}
}

func TestTakeRPMPrefersSQLite(t *testing.T) {
	im := openLayout(t, it.Image(t, it.Step{Layer: it.Layer(t,
		it.File{Path: "var/lib/rpm/Packages", Data: string(readTestdata(t, "rpm/Packages"))},
		it.File{Path: "var/lib/rpm/rpmdb.sqlite", Data: string(rpmSQLite(t, rpmPkg{"bash", "5.1.8", "9.el9", "x86_64", "bash.src.rpm", -1}))},
	)}))
	inv, err := Take(context.Background(), im, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"rpm bash 5.1.8-9.el9 @0"}, summary(inv)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !strings.Contains(strings.Join(inv.Warnings, "\n"), "var/lib/rpm/Packages (layer 0) ignored") {
		t.Errorf("warnings %q", inv.Warnings)
	}
}
