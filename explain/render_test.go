package explain_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stet-dev/stet/explain"
	"github.com/stet-dev/stet/imagediff"
	"github.com/stet-dev/stet/inventory"
	"github.com/stet-dev/stet/ref"
)

// synthetic is a report of one image move with n package upgrades.
func synthetic(n int, pkgName string) *explain.Report {
	d := &imagediff.Diff{Verdict: fmt.Sprintf("%d packages upgraded", n), Packages: []imagediff.PackageChange{}, Config: []imagediff.ConfigChange{}}
	d.A.Packages, d.B.Packages = n, n
	for i := range n {
		d.Packages = append(d.Packages, imagediff.PackageChange{Change: imagediff.Upgraded, Type: "dpkg",
			Name: fmt.Sprintf("%s%02d", pkgName, i), From: "1.0", To: "1.1", Layer: &inventory.LayerRef{Index: 0, Base: true}})
	}
	d.Packages = append(d.Packages, imagediff.PackageChange{Change: imagediff.Downgraded, Type: "dpkg", Name: "libc6", From: "2.36-9", To: "2.36-8", Layer: &inventory.LayerRef{Index: 0, Base: true}})
	d.Config = append(d.Config, imagediff.ConfigChange{Field: "env", Key: "A`B", From: "x|y", To: "<b>"})
	return &explain.Report{Images: []explain.ImageMove{{
		Move: explain.Move{Kind: ref.Image, Reference: "debian:12", Name: "docker.io/library/debian", Tag: "12",
			From: "sha256:" + strings.Repeat("a", 64), To: "sha256:" + strings.Repeat("b", 64), Sites: []explain.Site{{File: "Dockerfile", Line: 1}}},
		Platforms: []explain.Platform{{Platform: "linux/amd64", Diff: d}},
	}}}
}

func TestMarkdownFoldsLongTables(t *testing.T) {
	var buf bytes.Buffer
	if err := explain.Render(&buf, synthetic(30, "lib"), explain.FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	head, folded, ok := strings.Cut(out, "<details><summary>11 more packages</summary>")
	if !ok {
		t.Fatalf("no folded block for 31 changes:\n%s", out)
	}
	if n := strings.Count(head, "| upgraded |") + strings.Count(head, "| downgraded |"); n != explain.MaxTableRows {
		t.Errorf("%d rows before the fold, want %d", n, explain.MaxTableRows)
	}
	// The downgrade, the change a reviewer must not miss, comes first.
	if i, j := strings.Index(head, "| downgraded | libc6 |"), strings.Index(head, "| upgraded |"); i < 0 || i > j {
		t.Errorf("the downgrade is not the first row:\n%s", head)
	}
	if n := strings.Count(folded, "| upgraded |"); n != 11 {
		t.Errorf("%d rows folded, want 11", n)
	}
	// Markup in names and values stays text.
	if !strings.Contains(out, "- env ``A`B``: `x\\|y` → `<b>`") {
		t.Errorf("config line not escaped:\n%s", out)
	}

	buf.Reset()
	if err := explain.Render(&buf, synthetic(3, "x|<img src=x>"), explain.FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<img") || strings.Contains(buf.String(), "<details>") {
		t.Errorf("HTML from a package name, or a fold for 4 rows:\n%s", buf.String())
	}
	if err := explain.Render(&buf, synthetic(1, "a"), "yaml"); err == nil {
		t.Error("an unknown format rendered")
	}
}
