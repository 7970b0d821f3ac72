package inventory

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/stet-dev/stet/image"
	it "github.com/stet-dev/stet/image/imagetest"
)

// manyEntries returns a tar of n empty files, in the compact ustar format.
func manyEntries(n int) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < n; i++ {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d/%d", i), Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatUSTAR})
	}
	tw.Close()
	return buf.Bytes()
}

// paxHeader hand-crafts a tar whose first entry is a PAX extended header of
// size n (archive/tar refuses to write one over its own 1 MiB limit).
func paxHeader(n int) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	rec := fmt.Sprintf(" comment=%s\n", strings.Repeat("a", n))
	rec = fmt.Sprintf("%d%s", len(rec)+len(fmt.Sprint(len(rec)+8)), rec)
	tw.WriteHeader(&tar.Header{Name: "PaxHeaders/x", Typeflag: tar.TypeReg, Size: int64(len(rec)), Mode: 0o644, Format: tar.FormatUSTAR})
	tw.Write([]byte(rec))
	tw.WriteHeader(&tar.Header{Name: "x", Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatUSTAR})
	tw.Close()
	b := buf.Bytes()
	b[156] = tar.TypeXHeader
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b[:512] {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func TestScanTarHostile(t *testing.T) {
	hugePAX := paxHeader(2 << 20)
	tests := []struct {
		name string
		tar  []byte
		lim  Limits
		want error
		msg  string
	}{
		{name: "dot-dot escape", tar: it.Tar(t, it.File{Path: "a/../../etc/passwd", Data: "x"}), want: ErrUnsafePath},
		{name: "dot-dot hardlink target", tar: it.Tar(t, it.Hardlink("var/lib/dpkg/status", "../../x")), want: ErrUnsafePath},
		{name: "too many entries", tar: manyEntries(3000), lim: Limits{MaxEntries: 1000}, want: ErrLimit, msg: "more than 1000 entries"},
		{name: "decompressed size", tar: it.Tar(t, it.File{Path: "big", Data: strings.Repeat("\x00", 4<<20)}), lim: Limits{MaxLayerBytes: 1 << 20}, want: ErrLimit, msg: "layer expands beyond 1048576 bytes"},
		{name: "long name", tar: it.Tar(t, it.File{Path: strings.Repeat("a/", 3000) + "f", Data: "x"}), want: ErrLimit, msg: "longer than 4096 bytes"},
		{name: "huge pax header", tar: hugePAX, msg: "header field too long"},
		{name: "many whiteouts", tar: it.Tar(t, it.Whiteout("a"), it.Whiteout("b"), it.Whiteout("c")), lim: Limits{MaxRecorded: 2}, want: ErrLimit},
		{name: "truncated tar", tar: it.Tar(t, it.File{Path: "var/lib/dpkg/status", Data: dpkgDB("a=1")})[:560], msg: "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ScanTar(context.Background(), bytes.NewReader(tt.tar), tt.lim)
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want it to mention %q", err, tt.msg)
			}
		})
	}
}

// TestScanTarManyEntries walks a layer of 200,000 entries within the limits:
// only what matters is kept, whatever the entry count.
func TestScanTarManyEntries(t *testing.T) {
	tb := manyEntries(200_000)
	s, err := ScanTar(context.Background(), bytes.NewReader(tb), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Count != 200_000 || len(s.Entries) != 0 {
		t.Errorf("count %d, %d entries kept; want 200000 and 0", s.Count, len(s.Entries))
	}
}

func TestTakeHostileImages(t *testing.T) {
	bomb := it.LayerFromTar(t, it.Tar(t, it.File{Path: "zeros", Data: strings.Repeat("\x00", 16<<20)}), compression.GZip)
	zbomb := it.LayerFromTar(t, it.Tar(t, it.File{Path: "zeros", Data: strings.Repeat("\x00", 16<<20)}), compression.ZStd)
	bigDB := it.Layer(t, it.File{Path: "var/lib/dpkg/status", Data: dpkgDB("a=1", "b=2", "c=3")})
	tests := []struct {
		name  string
		layer v1.Layer
		lim   Limits
		want  string
	}{
		{"gzip bomb", bomb, Limits{MaxLayerBytes: 4 << 20}, "layer expands beyond 4194304 bytes"},
		{"zstd bomb", zbomb, Limits{MaxLayerBytes: 4 << 20}, "layer expands beyond 4194304 bytes"},
		{"database over the size limit", bigDB, Limits{MaxDBBytes: 64}, "more than the 64-byte limit"},
		// Zeros after the tar's end are part of the DiffID, which is
		// checked: decompressing them counts against the limit too.
		{"bomb after the end of the tar", trailingBomb(t), Limits{MaxLayerBytes: 4 << 20}, "layer decompresses to more than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			im := openLayout(t, it.Image(t, it.Step{Layer: tt.layer}))
			_, err := Take(context.Background(), im, Options{Limits: tt.lim})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.lim.MaxLayerBytes > 0 && !errors.Is(err, ErrLimit) {
				t.Errorf("err = %v, want ErrLimit", err)
			}
			if _, err := NewScanner(Options{Limits: tt.lim}).FileList(context.Background(), im, 0); tt.lim.MaxLayerBytes > 0 && !errors.Is(err, ErrLimit) {
				t.Errorf("file list: err = %v, want ErrLimit", err)
			}
		})
	}
}

// trailingBomb is a small valid tar followed, in the same gzip stream, by
// 16 MiB of zeros that a tar reader never asks for.
func trailingBomb(t *testing.T) v1.Layer {
	tb := it.Tar(t, it.File{Path: "etc/os-release", Data: "ID=alpine\n"})
	return it.LayerFromTar(t, append(tb, make([]byte, 16<<20)...), compression.GZip)
}

func TestTakeDigestMismatch(t *testing.T) {
	good := it.Layer(t, it.File{Path: "var/lib/dpkg/status", Data: dpkgDB("a=1")})
	evil := it.Layer(t, it.File{Path: "var/lib/dpkg/status", Data: dpkgDB("a=6")})
	img := it.Image(t, it.Step{Layer: good})
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"t": img})
	// Replace the stored blob with other (valid) content under the old name.
	dg, _ := good.Digest()
	rc, _ := evil.Compressed()
	var buf bytes.Buffer
	buf.ReadFrom(rc)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", dg.Hex), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	im, err := image.Open(context.Background(), "oci:"+dir+":t", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Take(context.Background(), im, Options{Cache: NewCache(t.TempDir())})
	if !errors.Is(err, image.ErrDigestMismatch) {
		t.Fatalf("err = %v (inventory %v), want a digest mismatch", err, inv)
	}
}

// TestLimitedResultNotCached: a database skipped for its size is read once
// the limit allows it, cache or not.
func TestLimitedResultNotCached(t *testing.T) {
	im := openLayout(t, it.Image(t, it.Step{Layer: it.Layer(t, it.File{Path: "var/lib/dpkg/status", Data: dpkgDB("a=1", "b=2", "c=3")})}))
	cache := NewCache(t.TempDir())
	if _, err := Take(context.Background(), im, Options{Cache: cache, Limits: Limits{MaxDBBytes: 64}}); err == nil {
		t.Fatal("want the size limit error")
	}
	inv, err := Take(context.Background(), im, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 3 {
		t.Errorf("%d packages, want 3", len(inv.Packages))
	}
}
