package imagediff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/inventory"
)

// Formats a Diff renders to.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
)

// Render writes d in a format.
func Render(w io.Writer, d *Diff, format string) error {
	switch format {
	case FormatText, "":
		return renderText(w, d)
	case FormatJSON:
		return renderJSON(w, d)
	case FormatMarkdown:
		return renderMarkdown(w, d)
	}
	return fmt.Errorf("unknown format %q (want text, json or markdown)", format)
}

// RenderAll writes the diffs of several platforms: JSON as one document,
// text and markdown one after another under a platform heading.
func RenderAll(w io.Writer, ds []*Diff, format string) error {
	return RenderPlatforms(w, ds, nil, nil, format)
}

// RenderPlatforms is RenderAll for two multi-platform images, naming first
// the platforms only A (onlyA) or only B (onlyB) offers; the JSON document
// lists them as "onlyA" and "onlyB".
func RenderPlatforms(w io.Writer, ds []*Diff, onlyA, onlyB []string, format string) error {
	only := len(onlyA) > 0 || len(onlyB) > 0
	if len(ds) == 1 && !only {
		return Render(w, ds[0], format)
	}
	if format == FormatJSON {
		var out struct {
			Platforms []json.RawMessage `json:"platforms"`
			OnlyA     []string          `json:"onlyA,omitempty"`
			OnlyB     []string          `json:"onlyB,omitempty"`
		}
		out.OnlyA, out.OnlyB = onlyA, onlyB
		for _, d := range ds {
			b, err := marshalDiff(d)
			if err != nil {
				return err
			}
			out.Platforms = append(out.Platforms, b)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, o := range []struct {
		side string
		ps   []string
	}{{"A", onlyA}, {"B", onlyB}} {
		if len(o.ps) == 0 {
			continue
		}
		if format == FormatMarkdown {
			fmt.Fprintf(w, "**Only in %s:** %s\n\n", o.side, strings.Join(o.ps, ", "))
		} else {
			fmt.Fprintf(w, "only in %s: %s\n", o.side, strings.Join(o.ps, ", "))
		}
	}
	if only && format != FormatMarkdown {
		fmt.Fprintln(w)
	}
	for i, d := range ds {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if format == FormatMarkdown {
			fmt.Fprintf(w, "# %s\n\n", d.B.Platform)
		} else {
			fmt.Fprintf(w, "=== %s\n", d.B.Platform)
		}
		if err := Render(w, d, format); err != nil {
			return err
		}
	}
	return nil
}

type jsonDiff struct {
	A Side `json:"a"`
	B Side `json:"b"`
	*Diff
}

func marshalDiff(d *Diff) ([]byte, error) {
	return json.MarshalIndent(jsonDiff{A: d.A, B: d.B, Diff: d}, "", "  ")
}

func renderJSON(w io.Writer, d *Diff) error {
	b, err := marshalDiff(d)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// HumanBytes renders a size for people: 3.2 MB.
func HumanBytes(n int64) string {
	if n < 0 {
		return "?"
	}
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// StoredSize renders a layer's size with how its source stores it, "2.1 MB
// gzip" or "5.0 MB tar", since the same layer is smaller compressed in a
// registry than uncompressed in a docker archive.
func StoredSize(n int64, compression string) string {
	switch compression {
	case "gzip", "zstd":
		return HumanBytes(n) + " " + compression
	case "none":
		return HumanBytes(n) + " tar"
	}
	return HumanBytes(n)
}

// sharedSize renders what the shared layers take: once when both sources
// store them alike, else as each stores them.
func sharedSize(l Layers) string {
	if l.SharedBytesA == l.SharedBytes {
		return HumanBytes(l.SharedBytes)
	}
	return fmt.Sprintf("%s as stored in A, %s in B", HumanBytes(l.SharedBytesA), HumanBytes(l.SharedBytes))
}

// origin says where a package version came from, for people.
func origin(l *inventory.LayerRef) string {
	if l == nil {
		return ""
	}
	s := fmt.Sprintf("layer %d", l.Index)
	if l.OrBelow {
		s += " or a shared layer below"
	}
	if l.Base {
		s = "base image, " + s
	}
	if cb := image.StepLine(l.CreatedBy, 60); cb != "" {
		s += ": " + cb
	}
	return s
}

func versions(p PackageChange) string {
	switch p.Change {
	case Added:
		return p.To
	case Removed:
		return p.From
	}
	return p.From + " → " + p.To
}

// Summary is the change on one line, as the text and markdown renderings
// and the explanations built on them show it: "Env PATH: a → b", "User:
// added nobody", "Cmd: removed (was [nginx])".
func (c ConfigChange) Summary() string {
	name := c.Field
	if c.Key != "" {
		name += " " + c.Key
	}
	switch {
	case c.From == "":
		return fmt.Sprintf("%s: added %s", name, c.To)
	case c.To == "":
		return fmt.Sprintf("%s: removed (was %s)", name, c.From)
	}
	return fmt.Sprintf("%s: %s → %s", name, c.From, c.To)
}

func sideLine(label string, s Side) string {
	line := fmt.Sprintf("%s  %s  %s  %s", label, s.Image, image.ShortDigest(s.Digest), s.Platform)
	if s.OS != nil {
		line += "  " + osString(s.OS)
	}
	return line
}

func renderText(w io.Writer, d *Diff) error {
	var b strings.Builder
	fmt.Fprintln(&b, d.Verdict)
	fmt.Fprintln(&b, sideLine("A", d.A))
	fmt.Fprintln(&b, sideLine("B", d.B))
	if d.Identical {
		textWarnings(&b, d.Warnings)
		_, err := io.WriteString(w, b.String())
		return err
	}
	if d.OS != nil {
		fmt.Fprintf(&b, "\nOS: %s → %s\n", d.OS.From, d.OS.To)
	}
	if len(d.Packages) > 0 {
		fmt.Fprintf(&b, "\nPackages (%d)\n", len(d.Packages))
		nw, vw := 0, 0
		for _, p := range d.Packages {
			nw = max(nw, len(p.Name))
			vw = max(vw, len([]rune(versions(p))))
		}
		for _, p := range d.Packages {
			v := versions(p)
			fmt.Fprintf(&b, "  %-10s %-*s  %s%s  %s\n", p.Change, nw, p.Name, v, strings.Repeat(" ", vw-len([]rune(v))), origin(p.Layer))
		}
	}
	if len(d.Config) > 0 {
		fmt.Fprintf(&b, "\nConfig (%d)\n", len(d.Config))
		for _, c := range d.Config {
			fmt.Fprintf(&b, "  %s\n", c.Summary())
		}
	}
	fmt.Fprintf(&b, "\nLayers: %d shared (%s), %d only in A, %d only in B\n", d.Layers.Shared, sharedSize(d.Layers), len(d.Layers.OnlyA), len(d.Layers.OnlyB))
	for _, l := range d.Layers.OnlyA {
		fmt.Fprintf(&b, "  A %-3d %s  %14s  %s\n", l.Index, image.ShortDigest(l.Digest), StoredSize(l.Size, l.Compression), image.StepLine(l.CreatedBy, 70))
	}
	for _, l := range d.Layers.OnlyB {
		fmt.Fprintf(&b, "  B %-3d %s  %14s  %s\n", l.Index, image.ShortDigest(l.Digest), StoredSize(l.Size, l.Compression), image.StepLine(l.CreatedBy, 70))
	}
	if d.Files != nil {
		fmt.Fprintf(&b, "\nFiles: %d added, %d removed, %d changed\n", d.Files.Added, d.Files.Removed, d.Files.Changed)
		for _, f := range d.Files.Changes {
			switch f.Change {
			case Added:
				fmt.Fprintf(&b, "  + %s  %s\n", f.Path, fileAttrs(f.To))
			case Removed:
				fmt.Fprintf(&b, "  - %s\n", f.Path)
			default:
				fmt.Fprintf(&b, "  ~ %s  (%s)\n", f.Path, strings.Join(f.What, ", "))
			}
		}
	}
	textWarnings(&b, d.Warnings)
	_, err := io.WriteString(w, b.String())
	return err
}

func textWarnings(b *strings.Builder, warnings []string) {
	for _, wr := range warnings {
		fmt.Fprintf(b, "\nwarning: %s", wr)
	}
	if len(warnings) > 0 {
		b.WriteByte('\n')
	}
}

func fileAttrs(f *inventory.FileInfo) string {
	if f == nil {
		return ""
	}
	s := fmt.Sprintf("%s %s %d:%d", f.Type, f.Mode, f.UID, f.GID)
	if f.Type == "file" {
		s += " " + HumanBytes(f.Size)
	}
	if f.Link != "" {
		s += " -> " + f.Link
	}
	return s
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

func renderMarkdown(w io.Writer, d *Diff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n", mdEscape(d.Verdict))
	fmt.Fprintf(&b, "| | image | digest | platform | OS |\n|---|---|---|---|---|\n")
	for _, s := range []struct {
		l string
		s Side
	}{{"A", d.A}, {"B", d.B}} {
		fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s | %s |\n", s.l, mdEscape(s.s.Image), image.ShortDigest(s.s.Digest), s.s.Platform, osString(s.s.OS))
	}
	if d.OS != nil {
		fmt.Fprintf(&b, "\nOS: %s → %s\n", d.OS.From, d.OS.To)
	}
	if len(d.Packages) > 0 {
		fmt.Fprintf(&b, "\n### Packages (%d)\n\n| change | package | version | from |\n|---|---|---|---|\n", len(d.Packages))
		for _, p := range d.Packages {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", p.Change, mdEscape(p.Name), mdEscape(versions(p)), mdEscape(origin(p.Layer)))
		}
	}
	if len(d.Config) > 0 {
		fmt.Fprintf(&b, "\n### Config (%d)\n\n", len(d.Config))
		for _, c := range d.Config {
			fmt.Fprintf(&b, "- %s\n", mdEscape(c.Summary()))
		}
	}
	fmt.Fprintf(&b, "\n### Layers\n\n%d shared (%s), %d only in A, %d only in B\n", d.Layers.Shared, sharedSize(d.Layers), len(d.Layers.OnlyA), len(d.Layers.OnlyB))
	if len(d.Layers.OnlyA)+len(d.Layers.OnlyB) > 0 {
		fmt.Fprintf(&b, "\n| image | layer | digest | size | created by |\n|---|---|---|---|---|\n")
		for _, l := range d.Layers.OnlyA {
			fmt.Fprintf(&b, "| A | %d | `%s` | %s | %s |\n", l.Index, image.ShortDigest(l.Digest), StoredSize(l.Size, l.Compression), mdEscape(image.StepLine(l.CreatedBy, 70)))
		}
		for _, l := range d.Layers.OnlyB {
			fmt.Fprintf(&b, "| B | %d | `%s` | %s | %s |\n", l.Index, image.ShortDigest(l.Digest), StoredSize(l.Size, l.Compression), mdEscape(image.StepLine(l.CreatedBy, 70)))
		}
	}
	if d.Files != nil {
		fmt.Fprintf(&b, "\n### Files\n\n%d added, %d removed, %d changed\n\n", d.Files.Added, d.Files.Removed, d.Files.Changed)
		for _, f := range d.Files.Changes {
			what := f.Change
			if len(f.What) > 0 {
				what += " (" + strings.Join(f.What, ", ") + ")"
			}
			fmt.Fprintf(&b, "- `%s` %s\n", mdEscape(f.Path), what)
		}
	}
	for _, wr := range d.Warnings {
		fmt.Fprintf(&b, "\n> warning: %s\n", mdEscape(wr))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
