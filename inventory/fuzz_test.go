package inventory

import (
	"bytes"
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/stet-dev/stet/image"
	it "github.com/stet-dev/stet/image/imagetest"
)

func FuzzParseDpkgStatus(f *testing.F) {
	f.Add(readTestdata(f, "debian-bookworm-minbase/var/lib/dpkg/status"))
	f.Add([]byte("Package: a\nVersion: 1\n\n"))
	f.Add([]byte(" x\n"))
	fuzzPackageDB(f, "status", ParseDpkgStatus)
}

func FuzzParseAPKInstalled(f *testing.F) {
	f.Add(readTestdata(f, "apk/installed"))
	f.Add([]byte("P:a\nV:1\n"))
	fuzzPackageDB(f, "installed", ParseAPKInstalled)
}

// fuzzPackageDB checks that a text database parser, given any bytes, either
// fails or returns packages that each have a name and a version.
func fuzzPackageDB(f *testing.F, file string, parse func(file string, data []byte) ([]Package, error)) {
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := parse(file, data)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
		}
	})
}

func FuzzParseOSRelease(f *testing.F) {
	f.Add(readTestdata(f, "debian-bookworm-minbase/etc/os-release"))
	f.Add([]byte("ID=\"x\\\"\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		os, err := ParseOSRelease("os-release", data)
		if err == nil && os.ID == "" {
			t.Fatal("empty ID")
		}
	})
}

func FuzzParseRPMHeader(f *testing.F) {
	f.Add(rpmHeader(map[uint32]string{rpmTagName: "bash", rpmTagVersion: "5.2", rpmTagRelease: "1", rpmTagArch: "x86_64"}, 1))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, blob []byte) {
		p, err := ParseRPMHeader(blob)
		if err == nil && (p.Name == "" || p.Version == "") {
			t.Fatalf("package without name or version: %+v", p)
		}
	})
}

// FuzzScanTar feeds arbitrary bytes through the tar walker and then through
// overlay resolution with the result stacked twice, which exercises symlink
// chains, whiteouts and hardlinks built by the fuzzer.
func FuzzScanTar(f *testing.F) {
	f.Add(it.Tar(f, it.Symlink("lib", "usr/lib"), it.File{Path: "usr/lib/apk/db/installed", Data: "P:a\nV:1\n"}))
	f.Add(it.Tar(f, it.Symlink("var", "var/x/.."), it.Whiteout("etc"), it.Opaque("var/lib")))
	f.Add(it.Tar(f, it.File{Path: "x", Data: "Package: a\nVersion: 1\n"}, it.Hardlink("var/lib/dpkg/status", "x")))
	f.Add(it.Tar(f, it.Symlink("etc/os-release", "../../../usr/lib/os-release"), it.File{Path: "usr/lib/os-release", Data: "ID=x\n"}))
	lim := Limits{MaxEntries: 1000, MaxLayerBytes: 1 << 20, MaxDBBytes: 1 << 16, MaxRecorded: 1000}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ScanTar(context.Background(), bytes.NewReader(data), lim)
		if err != nil {
			return
		}
		im := &image.Image{Config: &v1.ConfigFile{}, Layers: []image.Layer{{Index: 0}, {Index: 1}}}
		inv, err := Build(im, []*LayerScan{s, s}, BuildOptions{})
		if err != nil {
			return
		}
		for _, p := range inv.Packages {
			if p.Layer == nil || p.Layer.Index < 0 || p.Layer.Index > 1 {
				t.Fatalf("bad attribution %+v", p.Layer)
			}
		}
	})
}

// FuzzListTar feeds arbitrary bytes through the file lister of --files and
// merges the result over itself.
func FuzzListTar(f *testing.F) {
	f.Add(it.Tar(f, it.Dir("etc/"), it.File{Path: "etc/a", Data: "x"}, it.Whiteout("etc/b"), it.Opaque("usr"), it.Symlink("lib", "usr/lib")))
	lim := Limits{MaxEntries: 1000, MaxLayerBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := ListTar(context.Background(), bytes.NewReader(data), lim)
		if err != nil {
			return
		}
		m := MergeFiles([]*FileList{fl, fl})
		for p, fi := range m {
			if p != fi.Path || p == "" {
				t.Fatalf("merged %q holds %q", p, fi.Path)
			}
		}
	})
}
