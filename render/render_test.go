package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/stet-dev/stet/internal/corpus"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/*.txtar")

// releaseOf reads a "release" section: one "name reference@digest" a line.
func releaseOf(t *testing.T, data []byte) release.Release {
	t.Helper()
	r := release.Release{App: "shop", Number: 1, Images: map[string]release.Image{}}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		im, err := release.NewImage(v, "", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Images[k] = im
	}
	return r
}

// summary is the golden "result" section: what a rendering reports.
func summary(res *Result, err error) string {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	}
	for _, c := range res.Changes {
		fmt.Fprintf(&b, "change %s:%d:%d %s %s", c.File, c.Line, c.Column, c.Image, c.Reference)
		if c.Tag != "" {
			fmt.Fprintf(&b, " tag %s→%s", c.FromTag, c.Tag)
		}
		fmt.Fprintf(&b, " digest %s→%s", short(c.FromDigest), short(c.Digest))
		base, d := ref.SplitDigest(c.Written)
		fmt.Fprintf(&b, " written %s@%s\n", base, short(d))
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(&b, "skip %s\n", s.Error())
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "note %s:%d: %s\n", n.File, n.Line, n.Message)
	}
	fmt.Fprintf(&b, "unchanged %d\nunused %v\n", res.Unchanged, res.Unused)
	return b.String()
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	if d == "" {
		return "-"
	}
	return d
}

// TestGolden renders the cases of testdata/*.txtar: each holds a release,
// input files, and the expected result and rendered files (want/PATH),
// compared byte for byte. -update rewrites the expectations.
func TestGolden(t *testing.T) {
	cases, _ := filepath.Glob("testdata/*.txtar")
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	wd, _ := os.Getwd()
	for _, file := range cases {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, variant := range []string{"lf", "crlf", "bom"} {
			crlf, bom := variant == "crlf", variant == "bom"
			t.Run(name+"/"+variant, func(t *testing.T) {
				dir := t.TempDir()
				var rel release.Release
				inputs := map[string][]byte{}
				want := map[string][]byte{}
				for _, f := range ar.Files {
					data := f.Data
					if crlf {
						data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
					}
					if bom && f.Name != "release" && f.Name != "result" && len(data) > 0 {
						data = append([]byte("\ufeff"), data...)
					}
					switch {
					case f.Name == "release":
						rel = releaseOf(t, f.Data)
					case f.Name == "result":
						want[f.Name] = f.Data
					case strings.HasPrefix(f.Name, "want/"):
						want[f.Name] = data
					default:
						inputs[f.Name] = data
						p := filepath.Join(dir, filepath.FromSlash(f.Name))
						os.MkdirAll(filepath.Dir(p), 0o755)
						if err := os.WriteFile(p, data, 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
				t.Chdir(dir)
				res, err := Paths(context.Background(), []string{"."}, rel, Options{})
				got := map[string][]byte{"result": []byte(summary(res, err))}
				if res != nil {
					for p, d := range res.Files {
						got["want/"+p] = d
						// Only references changed: the old bytes, rendered
						// again, give the same bytes (rendering is stable),
						// and the input is untouched on disk until Write.
						if on, _ := os.ReadFile(filepath.FromSlash(p)); !bytes.Equal(on, inputs[p]) {
							t.Errorf("%s changed on disk before Write", p)
						}
					}
					if crlf {
						for p, d := range res.Files {
							if n := bytes.Count(d, []byte("\n")); n != bytes.Count(d, []byte("\r\n")) {
								t.Errorf("%s: %d bare line feeds after rendering a CRLF file", p, n-bytes.Count(d, []byte("\r\n")))
							}
						}
					}
				}
				if *update && variant == "lf" {
					var files []txtar.File
					for _, f := range ar.Files {
						if f.Name != "result" && !strings.HasPrefix(f.Name, "want/") {
							files = append(files, f)
						}
					}
					keys := make([]string, 0, len(got))
					for k := range got {
						keys = append(keys, k)
					}
					slices.Sort(keys)
					for _, k := range keys {
						files = append(files, txtar.File{Name: k, Data: got[k]})
					}
					ar.Files = files
					if err := os.WriteFile(filepath.Join(wd, file), txtar.Format(ar), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				// The summary names lines and columns, which neither CRLF
				// nor a byte-order mark moves on the lines that change: the
				// files differ only by their line ends or first bytes.
				if diff := cmp.Diff(stringMap(want), stringMap(got)); diff != "" {
					t.Errorf("(-want +got)\n%s", diff)
				}
				if err == nil && len(res.Files) > 0 {
					// Rendering the rendered files again changes nothing.
					if err := res.Write(); err != nil {
						t.Fatal(err)
					}
					again, err := Paths(context.Background(), []string{"."}, rel, Options{})
					if err != nil || len(again.Files) != 0 || len(again.Changes) != 0 {
						t.Errorf("second rendering: %v, %d files, %+v", err, len(again.Files), again)
					}
				}
			})
		}
	}
}

func stringMap(m map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func digest(s string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s)))
}

func TestMatchByFromRelease(t *testing.T) {
	// Same repository, tags that moved between releases: only the release
	// the file describes now tells web from worker.
	r1 := release.Release{App: "shop", Number: 1, Images: map[string]release.Image{
		"web":    {Reference: "registry.example/shop:web-1", Digest: digest("w1")},
		"worker": {Reference: "registry.example/shop:worker-1", Digest: digest("k1")},
	}}
	r2 := release.Release{App: "shop", Number: 2, Images: map[string]release.Image{
		"web":    {Reference: "registry.example/shop:web-2", Digest: digest("w2")},
		"worker": {Reference: "registry.example/shop:worker-2", Digest: digest("k2")},
	}}
	data := []byte("services:\n  web:\n    image: registry.example/shop:web-2@" + digest("w2") + "\n  worker:\n    image: registry.example/shop:worker-2\n")
	res, err := formats.Default()[ref.SourceCompose]("compose.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := Data("compose.yaml", data, res.Refs, r1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fr.Skipped) != 2 || !errors.Is(fr.Skipped[0], ErrUnrenderable) || !strings.Contains(fr.Skipped[0].Reason, "several images") {
		t.Fatalf("without From: %+v", fr.Skipped)
	}
	fr, err = Data("compose.yaml", data, res.Refs, r1, Options{From: &r2})
	if err != nil {
		t.Fatal(err)
	}
	want := "services:\n  web:\n    image: registry.example/shop:web-1@" + digest("w1") + "\n  worker:\n    image: registry.example/shop:worker-1@" + digest("k1") + "\n"
	if diff := cmp.Diff(want, string(fr.Data)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}

	// An image r2 added and r1 lacks stays as written, with a note.
	r2.Images["cron"] = release.Image{Reference: "registry.example/cron:2", Digest: digest("c2")}
	data = []byte("services:\n  cron:\n    image: registry.example/cron:2\n")
	res, _ = formats.Default()[ref.SourceCompose]("compose.yaml", data)
	fr, err = Data("compose.yaml", data, res.Refs, r1, Options{From: &r2})
	if err != nil || string(fr.Data) != string(data) || len(fr.Notes) != 1 || fr.Notes[0].Message != "registry.example/cron:2 is image cron of shop r2, which shop r1 does not hold; left as it is" {
		t.Errorf("an image the target lacks: %v %+v", err, fr)
	}
}

func TestChangedSinceScan(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile("pod.yaml", []byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1\n"), 0o644)
	rep, err := scan.Walk(context.Background(), []string{"."}, scan.Options{Scanners: formats.Default()})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("pod.yaml", []byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginy:1\n"), 0o644)
	rel := release.Release{App: "a", Images: map[string]release.Image{"nginx": {Reference: "docker.io/library/nginx:1", Digest: digest("n")}}}
	_, err = Files(context.Background(), rep.Files, rel, Options{})
	if err == nil {
		t.Fatal("a file changed since its scan was rendered")
	}
}

// TestCorpus renders every deployment file of the corpus to a release that
// holds every image it names, and checks that only references changed:
// rescanning the output finds each rendered reference at the release's
// digest, and every line that differs is a line a change names (or a
// digest line inserted under one).
func TestCorpus(t *testing.T) {
	root := filepath.Join("..", "testdata", "corpus")
	files, err := corpus.List(root)
	if err != nil {
		t.Skip("no corpus")
	}
	scanners := formats.Default()
	n := 0
	for _, cf := range files {
		path := filepath.Join(root, filepath.FromSlash(cf.Path))
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		source := scan.Detect(cf.Path, strings.Contains(cf.Path, "chart"))
		if !slices.Contains(Sources, source) {
			continue
		}
		res, err := scanners[source](filepath.ToSlash(path), data)
		if err != nil {
			continue
		}
		rel := release.Release{App: "corpus", Images: map[string]release.Image{}}
		for _, r := range res.Refs {
			if r.Kind != ref.Image || r.Name == "" {
				continue
			}
			k := r.Name
			if _, ok := rel.Images[k]; ok {
				continue
			}
			tag := r.Tag
			if tag == "" || r.Dynamic {
				tag = "rendered"
			}
			rel.Images[k] = release.Image{Reference: r.Name + ":" + tag, Digest: digest(r.Name)}
		}
		if len(rel.Images) == 0 {
			continue
		}
		n++
		t.Run(cf.Path, func(t *testing.T) {
			fr, err := Data(filepath.ToSlash(path), data, res.Refs, rel, Options{})
			if err != nil {
				t.Fatal(err)
			}
			after, err := scanners[source](filepath.ToSlash(path), fr.Data)
			if err != nil {
				t.Fatalf("rendered file does not scan: %v", err)
			}
			lines := map[int]bool{}
			for _, c := range fr.Changes {
				lines[c.Line] = true
			}
			oldLines := strings.Split(string(data), "\n")
			newLines := strings.Split(string(fr.Data), "\n")
			inserted := len(newLines) - len(oldLines)
			if inserted < 0 {
				t.Fatalf("rendering removed %d lines", -inserted)
			}
			// Line-by-line, allowing the inserted digest lines.
			j := 0
			for i := 0; i < len(oldLines); i++ {
				if oldLines[i] == newLines[j] {
					j++
					continue
				}
				if inserted > 0 && strings.Contains(newLines[j], "digest: sha256:") && !strings.Contains(oldLines[i], "digest") {
					inserted--
					j++
					i--
					continue
				}
				if !lines[i+1] && !strings.ContainsAny(newLines[j], "@") && !strings.Contains(newLines[j], "sha256:") && !isTagLine(newLines[j]) {
					t.Errorf("line %d changed without a reference on it:\n-%s\n+%s", i+1, oldLines[i], newLines[j])
				}
				j++
			}
			rendered := map[string]bool{}
			for _, c := range fr.Changes {
				rendered[fmt.Sprint(c.Line)] = true
			}
			for _, r := range after.Refs {
				im, ok := rel.Images[r.Name]
				if !ok || !rendered[fmt.Sprint(r.Line)] {
					continue
				}
				if r.Digest != im.Digest && r.Edit != nil {
					t.Errorf("%d: %s rendered but reads %s", r.Line, r.Text, r.Digest)
				}
			}
		})
	}
	if n < 10 {
		t.Errorf("only %d corpus files rendered", n)
	}
}

func isTagLine(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "tag:") || strings.HasPrefix(s, "newTag:") || strings.HasPrefix(s, "version:")
}

// The JSON form is what CD systems and the CLI read.
func TestResultJSON(t *testing.T) {
	res := &Result{Changes: []Change{{File: "a.yaml", Line: 1, Column: 8, Image: "web", Reference: "web:1", Digest: digest("x")}}}
	b, err := json.Marshal(res)
	if err != nil || !strings.Contains(string(b), `"image":"web"`) || strings.Contains(string(b), `"used"`) {
		t.Errorf("%s %v", b, err)
	}
}

// FuzzData renders arbitrary YAML as each deployment format to a release
// naming every image found: it must not panic, and what it writes must
// scan again with every rewritten reference at the release's digest.
func FuzzData(f *testing.F) {
	cases, _ := filepath.Glob("testdata/*.txtar")
	for _, c := range cases {
		ar, err := txtar.ParseFile(c)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if file.Name != "release" && file.Name != "result" && !strings.HasPrefix(file.Name, "want/") {
				f.Add(file.Data, uint8(0))
				f.Add(file.Data, uint8(3))
			}
		}
	}
	f.Add([]byte("image: {repository: a/b, tag: \"1\", digest: \"\"}\n"), uint8(3))
	f.Add([]byte("images:\n- name: x\n  newTag: '2'\n"), uint8(2))
	scanners := formats.Default()
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		source := Sources[int(which)%len(Sources)]
		res, err := scanners[source]("f.yaml", data)
		if err != nil {
			return
		}
		rel := release.Release{App: "fuzz", Images: map[string]release.Image{}}
		for i, r := range res.Refs {
			if r.Kind != ref.Image || r.Name == "" {
				continue
			}
			if _, ok := rel.Images[r.Name]; ok {
				continue
			}
			tag := "v" + fmt.Sprint(i)
			if _, err := ref.ParseImage(r.Name + ":" + tag); err != nil {
				continue
			}
			rel.Images[r.Name] = release.Image{Reference: r.Name + ":" + tag, Digest: digest(r.Name)}
		}
		fr, err := Data("f.yaml", data, res.Refs, rel, Options{})
		if err != nil {
			return
		}
		if len(fr.Changes) == 0 {
			if !bytes.Equal(fr.Data, data) {
				t.Fatalf("no change reported, but the bytes changed:\n%q\n%q", data, fr.Data)
			}
			return
		}
		again, err := scanners[source]("f.yaml", fr.Data)
		if err != nil {
			t.Fatalf("the rendered file does not scan: %v\n%q\n%q", err, data, fr.Data)
		}
		lines := map[int]bool{}
		for _, c := range fr.Changes {
			lines[c.Line] = true
		}
		for _, r := range again.Refs {
			im, ok := rel.Images[r.Name]
			if ok && lines[r.Line] && r.Edit != nil && !r.Dynamic && r.Digest != im.Digest {
				t.Errorf("line %d: %s rendered but reads %q\n%q", r.Line, r.Text, r.Digest, fr.Data)
			}
		}
	})
}
