package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/imagediff"
	"github.com/stet-dev/stet/inventory"
)

// Formats a Report renders to.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
)

// MaxTableRows is how many package changes a markdown section shows before
// folding the rest into a collapsed block: a reviewer reads the first
// screen, and a distribution upgrade can change hundreds of packages.
const MaxTableRows = 20

// Render writes r in a format: text for a terminal, json, or markdown for a
// pull-request body whose first line is its title (see Title).
func Render(w io.Writer, r *Report, format string) error {
	var b strings.Builder
	switch format {
	case FormatText, "":
		renderText(&b, r)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	case FormatMarkdown:
		renderMarkdown(&b, r)
	default:
		return fmt.Errorf("unknown format %q (want text, json or markdown)", format)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// MarshalJSON writes the comparison with both sides described.
func (p Platform) MarshalJSON() ([]byte, error) {
	type plain Platform
	type sides struct {
		A imagediff.Side `json:"a"`
		B imagediff.Side `json:"b"`
		*imagediff.Diff
	}
	out := struct {
		plain
		Diff *sides `json:"diff,omitempty"`
	}{plain: plain(p)}
	if p.Diff != nil {
		out.Diff = &sides{A: p.Diff.A, B: p.Diff.B, Diff: p.Diff}
	}
	return json.Marshal(out)
}

// Title is a one-line summary naming what moved: "Update nginx:1-alpine,
// redis:7 and actions/checkout@v4".
func (r *Report) Title() string {
	var names []string
	for _, m := range r.Images {
		names = append(names, m.Reference)
	}
	for _, m := range r.Actions {
		names = append(names, m.Reference)
	}
	names = slices.Compact(names)
	switch {
	case len(names) == 0 && len(r.Held) > 0:
		return fmt.Sprintf("No digest adopted: %s held back", plural(len(r.Held), "reference", "references"))
	case len(names) == 0:
		return "No digest moved"
	case len(names) == 1:
		return "Update " + names[0]
	case len(names) <= 3:
		return "Update " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	return fmt.Sprintf("Update %s and %d more", strings.Join(names[:2], ", "), len(names)-2)
}

// detailed reports whether an image move gets a section of its own: some
// platform was compared with a package database on a side.
func detailed(m ImageMove) bool {
	return m.Packages()
}

func sites(ss []Site) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.String()
	}
	return strings.Join(out, ", ")
}

func renderText(b *strings.Builder, r *Report) {
	for i, m := range r.Images {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(b, "%s  %s → %s\n", m.Reference, shortDigest(m.From), shortDigest(m.To))
		if len(m.Sites) > 0 {
			fmt.Fprintf(b, "  used in %s\n", sites(m.Sites))
		}
		for _, p := range m.Platforms {
			if p.Diff == nil {
				fmt.Fprintf(b, "  %s: not compared: %s\n", p.Platform, p.Note)
				continue
			}
			d := p.Diff
			fmt.Fprintf(b, "  %s: %s\n", p.Platform, d.Verdict)
			if d.OS != nil {
				fmt.Fprintf(b, "    OS %s → %s\n", d.OS.From, d.OS.To)
			} else if os := osString(d.B.OS); os != "" {
				fmt.Fprintf(b, "    %s\n", os)
			}
			if d.A.Packages == 0 && d.B.Packages == 0 {
				fmt.Fprintf(b, "    no package database in either image\n")
			}
			pkgs := ordered(d.Packages)
			nw, vw := 0, 0
			for _, pc := range pkgs {
				nw = max(nw, len(pc.Name))
				vw = max(vw, len([]rune(versions(pc))))
			}
			for _, pc := range pkgs {
				v := versions(pc)
				fmt.Fprintf(b, "    %-10s %-*s  %s%s  %s\n", pc.Change, nw, pc.Name, v, strings.Repeat(" ", vw-len([]rune(v))), origin(pc.Layer, 60))
			}
			for _, c := range d.Config {
				fmt.Fprintf(b, "    config %s\n", c.Summary())
			}
			for _, w := range d.Warnings {
				fmt.Fprintf(b, "    warning: %s\n", w)
			}
		}
	}
	if len(r.Actions) > 0 {
		if len(r.Images) > 0 {
			b.WriteByte('\n')
		}
		for _, m := range r.Actions {
			fmt.Fprintf(b, "%s  %s → %s\n", m.Reference, actionSide(m.Tag, m.From), actionSide(cmpOr(m.Version, m.Tag), m.To))
			if len(m.Sites) > 0 {
				fmt.Fprintf(b, "  used in %s\n", sites(m.Sites))
			}
		}
	}
	if len(r.Held) > 0 {
		if len(r.Images)+len(r.Actions) > 0 {
			b.WriteByte('\n')
		}
		for _, h := range r.Held {
			fmt.Fprintf(b, "held back: %s  %s → %s: %s\n", h.Reference, shortDigest(h.From), shortDigest(h.To), h.Reason)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func actionSide(version, commit string) string {
	if version == "" {
		return shortDigest(commit)
	}
	return version + " " + shortDigest(commit)
}

func renderMarkdown(b *strings.Builder, r *Report) {
	fmt.Fprintf(b, "# %s\n", md(r.Title()))
	var footer []ImageMove
	moved := map[string]bool{}
	for _, m := range r.Images {
		moved[m.Reference] = true
		if !detailed(m) {
			footer = append(footer, m)
		}
	}
	actions := map[string]bool{}
	for _, m := range r.Actions {
		actions[m.Reference] = true
	}
	fmt.Fprintf(b, "\n%s.\n", summary(len(moved), len(actions), len(r.Held)))
	for _, m := range r.Images {
		if !detailed(m) {
			continue
		}
		fmt.Fprintf(b, "\n## %s `%s` → `%s`\n", md(m.Reference), shortDigest(m.From), shortDigest(m.To))
		for _, p := range m.Platforms {
			markdownPlatform(b, p, len(m.Platforms) > 1)
		}
		fmt.Fprintf(b, "\nUsed in: %s\n", mdSites(m.Sites))
	}
	if len(r.Actions) > 0 {
		fmt.Fprintf(b, "\n## Actions\n\n| action | from | to | used in |\n|---|---|---|---|\n")
		for _, m := range r.Actions {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", md(m.Name), mdAction(m.Tag, m.From), mdAction(cmpOr(m.Version, m.Tag), m.To), mdSites(m.Sites))
		}
	}
	if len(footer) > 0 {
		fmt.Fprintf(b, "\n## Moved without a readable package database\n\n")
		for _, m := range footer {
			fmt.Fprintf(b, "- %s `%s` → `%s`: %s. Used in: %s\n", md(m.Reference), shortDigest(m.From), shortDigest(m.To), md(whyNoPackages(m)), mdSites(m.Sites))
		}
	}
	if len(r.Held) > 0 {
		fmt.Fprintf(b, "\n## Held back\n\n")
		for _, h := range r.Held {
			fmt.Fprintf(b, "- %s `%s` → `%s`: %s. Used in: %s\n", md(h.Reference), shortDigest(h.From), shortDigest(h.To), md(h.Reason), mdSites(h.Sites))
		}
	}
}

func summary(images, actions, held int) string {
	var parts []string
	if n := images; n > 0 {
		parts = append(parts, plural(n, "image", "images")+" moved")
	}
	if actions > 0 {
		parts = append(parts, plural(actions, "action", "actions")+" moved")
	}
	if held > 0 {
		parts = append(parts, plural(held, "reference", "references")+" held back")
	}
	if len(parts) == 0 {
		return "Nothing moved"
	}
	s := strings.Join(parts, ", ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func markdownPlatform(b *strings.Builder, p Platform, label bool) {
	prefix := ""
	if label {
		prefix = p.Platform + ": "
	}
	if p.Diff == nil {
		fmt.Fprintf(b, "\n%snot compared: %s\n", md(prefix), md(p.Note))
		return
	}
	d := p.Diff
	line := fmt.Sprintf("\n**%s%s**", md(prefix), md(d.Verdict))
	var facts []string
	if !label {
		facts = append(facts, p.Platform)
	}
	if d.OS != nil {
		facts = append(facts, md(d.OS.From+" → "+d.OS.To))
	} else if os := osString(d.B.OS); os != "" {
		facts = append(facts, md(os))
	}
	if len(facts) > 0 {
		line += " · " + strings.Join(facts, " · ")
	}
	b.WriteString(line + "\n")
	if len(d.Packages) > 0 {
		pkgs := ordered(d.Packages)
		table := func(rows []imagediff.PackageChange) {
			fmt.Fprintf(b, "\n| change | package | version | from |\n|---|---|---|---|\n")
			for _, pc := range rows {
				fmt.Fprintf(b, "| %s | %s | %s | %s |\n", pc.Change, md(pc.Name), md(versions(pc)), md(origin(pc.Layer, 50)))
			}
		}
		table(pkgs[:min(len(pkgs), MaxTableRows)])
		if len(pkgs) > MaxTableRows {
			fmt.Fprintf(b, "\n<details><summary>%d more packages</summary>\n", len(pkgs)-MaxTableRows)
			table(pkgs[MaxTableRows:])
			fmt.Fprintf(b, "\n</details>\n")
		}
	} else if d.A.Packages == 0 && d.B.Packages == 0 {
		fmt.Fprintf(b, "\nNo package database in either image.\n")
	}
	if len(d.Config) > 0 {
		fmt.Fprintf(b, "\nConfig:\n")
		for _, c := range d.Config {
			fmt.Fprintf(b, "- %s\n", mdConfig(c))
		}
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(b, "\n> warning: %s\n", md(w))
	}
}

// whyNoPackages is the footer line of an image move without a package
// comparison.
func whyNoPackages(m ImageMove) string {
	var why []string
	for _, p := range m.Platforms {
		pre := ""
		if len(m.Platforms) > 1 {
			pre = p.Platform + ": "
		}
		if p.Diff == nil {
			why = append(why, pre+p.Note)
			continue
		}
		why = append(why, pre+"no package database in either image; "+p.Diff.Verdict)
	}
	return strings.Join(why, "; ")
}

// ordered puts the changes a reviewer must see first at the top:
// downgrades, then upgrades, other version changes, additions, removals.
func ordered(ps []imagediff.PackageChange) []imagediff.PackageChange {
	rank := map[string]int{imagediff.Downgraded: 0, imagediff.Upgraded: 1, imagediff.Changed: 2, imagediff.Added: 3, imagediff.Removed: 4}
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b imagediff.PackageChange) int { return rank[a.Change] - rank[b.Change] })
	return out
}

func versions(p imagediff.PackageChange) string {
	switch p.Change {
	case imagediff.Added:
		return p.To
	case imagediff.Removed:
		return p.From
	}
	return p.From + " → " + p.To
}

// origin says where a package version came from, for people.
func origin(l *inventory.LayerRef, n int) string {
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
	if cb := image.StepLine(l.CreatedBy, n); cb != "" {
		s += ": " + cb
	}
	return s
}

func mdConfig(c imagediff.ConfigChange) string {
	name := md(c.Field)
	if c.Key != "" {
		name += " " + code(c.Key)
	}
	switch {
	case c.From == "":
		return fmt.Sprintf("%s: added %s", name, code(c.To))
	case c.To == "":
		return fmt.Sprintf("%s: removed (was %s)", name, code(c.From))
	}
	return fmt.Sprintf("%s: %s → %s", name, code(c.From), code(c.To))
}

func osString(o *inventory.OS) string {
	if o == nil {
		return ""
	}
	if o.VersionID != "" {
		return o.ID + " " + o.VersionID
	}
	return o.ID
}

func mdSites(ss []Site) string {
	if len(ss) == 0 {
		return "—"
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = code(s.String())
	}
	return strings.Join(out, ", ")
}

func mdAction(version, commit string) string {
	if version == "" {
		return code(shortDigest(commit))
	}
	return md(version) + " " + code(shortDigest(commit))
}

// md makes text safe in a markdown table cell or line: no line breaks,
// pipes escaped, no HTML, no emphasis from stray characters.
func md(s string) string {
	return strings.NewReplacer(
		"\r", " ", "\n", " ", "|", `\|`, "<", "&lt;", ">", "&gt;", "`", "'",
		"*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	).Replace(s)
}

// code renders s as inline code, whatever backticks it holds.
func code(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`).Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
