package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	it "github.com/stet-dev/stet/image/imagetest"
	"github.com/stet-dev/stet/internal/testgit"
	"github.com/stet-dev/stet/internal/testregistry"
)

// storyBuilt is when the story's nginx images say they were built; fixed,
// so digests and golden files are stable.
var storyBuilt = time.Date(2019, 7, 23, 10, 0, 0, 0, time.UTC)

// alpineImage is an image whose one (base) layer carries an apk database
// with nginx at a version, built for a platform at a time.
func alpineImage(t *testing.T, nginx, platform string, created time.Time) v1.Image {
	t.Helper()
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		t.Fatal(err)
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[p.Architecture]
	db := strings.ReplaceAll(apkInstalled("musl=1.1.22-r2", "busybox=1.30.1-r2", "nginx="+nginx), "A:x86_64", "A:"+arch)
	img := it.Image(t, it.Step{
		Layer: it.Layer(t,
			it.File{Path: "etc/os-release", Data: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.1\n"},
			it.File{Path: "lib/apk/db/installed", Data: db},
			it.File{Path: "usr/sbin/nginx", Data: "nginx " + nginx + " " + p.Architecture}),
		CreatedBy: "/bin/sh -c #(nop) ADD file:9a4f77dfaba7 in / ",
	})
	img = it.WithConfig(t, img, func(c *v1.Config) {
		c.Env = []string{"NGINX_VERSION=" + strings.TrimSuffix(nginx, "-r0")}
		c.Cmd = []string{"nginx", "-g", "daemon off;"}
	})
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: created}); err != nil {
		t.Fatal(err)
	}
	return img
}

func indexOf(t *testing.T, imgs ...v1.Image) v1.ImageIndex {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture}}})
	}
	return idx
}

// explainGolden compares got with testdata/explain/NAME (-update rewrites it).
func explainGolden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join(origDir, "testdata", "explain", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./internal/cli -run Explain -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// explainStory pushes the nginx story: nginx:1-alpine moved from nginx
// 1.17.1-r0 to 1.17.2-r0 in its base layer. It returns both digests.
func explainStory(t *testing.T, host string) (old, cur string) {
	old = testregistry.Push(t, host+"/library/nginx:1-alpine", alpineImage(t, "1.17.1-r0", "linux/amd64", storyBuilt))
	cur = testregistry.Push(t, host+"/library/nginx:1-alpine", alpineImage(t, "1.17.2-r0", "linux/amd64", storyBuilt.Add(48*time.Hour)))
	return old, cur
}

func storyTree(host, old string) map[string]string {
	return map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM nginx:1-alpine@" + old + "\nCOPY site /usr/share/nginx/html\n",
		"deploy/web.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n" +
			"      - name: web\n        image: nginx:1-alpine@" + old + "\n",
	}
}

// TestUpdateExplainStory: the update moves nginx:1-alpine and says, in each
// format, that nginx went from 1.17.1-r0 to 1.17.2-r0 in the base layer.
func TestUpdateExplainStory(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	old, cur := explainStory(t, host)
	for _, format := range []string{"text", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			dir := writeTree(t, storyTree(host, old))
			t.Chdir(dir)
			code, out, errOut := stetRun(t, context.Background(), "update", "--explain", "--format", format, ".")
			if code != ExitOK {
				t.Fatalf("update --explain = %d\n%s%s", code, out, errOut)
			}
			explainGolden(t, "story."+format, out)
			tree := readTree(t, dir)
			if !strings.Contains(tree["Dockerfile"], cur) || !strings.Contains(tree["deploy/web.yaml"], cur) {
				t.Errorf("not updated:\n%v", tree)
			}
			if format == "json" && !json.Valid([]byte(out)) {
				t.Errorf("invalid JSON:\n%s", out)
			}
		})
	}
	// The pull-request body's first screen: title, verdict, the upgrade.
	dir := writeTree(t, storyTree(host, old))
	t.Chdir(dir)
	_, out, _ := stetRun(t, context.Background(), "update", "--explain", "--format", "markdown", "--dry-run", ".")
	lines := strings.Split(out, "\n")
	if lines[0] != "# Update nginx:1-alpine" {
		t.Errorf("title %q", lines[0])
	}
	first := strings.Join(lines[:min(len(lines), 12)], "\n")
	for _, want := range []string{"## nginx:1-alpine `" + old[:19] + "…` → `" + cur[:19] + "…`", "**1 package upgraded", "| upgraded | nginx | 1.17.1-r0 → 1.17.2-r0 | layer 0: ADD file:9a4f77dfaba7 in / |"} {
		if !strings.Contains(first, want) {
			t.Errorf("first screen lacks %q:\n%s", want, first)
		}
	}
	if !strings.Contains(out, "Used in: `Dockerfile:1`, `deploy/web.yaml:10`") {
		t.Errorf("sites missing:\n%s", out)
	}
	if readTree(t, dir)["Dockerfile"] != storyTree(host, old)["Dockerfile"] {
		t.Errorf("--dry-run wrote the file")
	}
}

// TestUpdateExplainGoneDigest: the old digest is no longer served. The
// update goes ahead with a note; --explain-strict refuses it.
func TestUpdateExplainGoneDigest(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	_, cur := explainStory(t, host)
	vanished, err := alpineImage(t, "1.16.0-r0", "linux/amd64", storyBuilt).Digest() // never pushed
	if err != nil {
		t.Fatal(err)
	}
	files := storyTree(host, vanished.String())

	dir := writeTree(t, files)
	code, out, errOut := stetRun(t, context.Background(), "update", "--explain", "--explain-strict", dir)
	if code != ExitFailure || !strings.Contains(errOut, "could not be compared; no file was changed") {
		t.Errorf("--explain-strict = %d, want 3 saying why:\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("--explain-strict changed files (-want +got):\n%s", diff)
	}

	code, out, errOut = stetRun(t, context.Background(), "update", "--explain", "--format", "markdown", dir)
	if code != ExitOK {
		t.Fatalf("update --explain = %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(readTree(t, dir)["Dockerfile"], cur) {
		t.Errorf("Dockerfile not updated")
	}
	note := "is no longer in the registry: there is nothing to compare the new image with"
	if !strings.Contains(out, "## Moved without a readable package database") || !strings.Contains(out, note) {
		t.Errorf("markdown lacks the note:\n%s", out)
	}
	if !strings.Contains(errOut, "stet: warning: nginx:1-alpine") || !strings.Contains(errOut, note) {
		t.Errorf("stderr lacks the warning:\n%s", errOut)
	}
}

// TestUpdateExplainIndex: a multi-platform index moved; each requested
// platform is compared, and JSON carries both.
func TestUpdateExplainIndex(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	old := testregistry.PushIndex(t, host+"/library/nginx:1-alpine", indexOf(t,
		alpineImage(t, "1.17.1-r0", "linux/amd64", storyBuilt), alpineImage(t, "1.17.1-r0", "linux/arm64", storyBuilt)))
	cur := testregistry.PushIndex(t, host+"/library/nginx:1-alpine", indexOf(t,
		alpineImage(t, "1.17.2-r0", "linux/amd64", storyBuilt), alpineImage(t, "1.17.3-r0", "linux/arm64", storyBuilt)))
	files := storyTree(host, old)

	type pkg struct{ Platform, Name, From, To string }
	run := func(t *testing.T, args ...string) []pkg {
		dir := writeTree(t, files)
		code, out, errOut := stetRun(t, context.Background(), append(append([]string{"update", "--explain", "--format", "json"}, args...), dir)...)
		if code != ExitOK {
			t.Fatalf("update = %d\n%s%s", code, out, errOut)
		}
		var res struct {
			Changes []struct{ From, To string }
			Explain struct {
				Images []struct {
					From, To  string
					Platforms []struct {
						Platform string
						Diff     struct {
							Packages []struct{ Name, From, To string }
						}
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(res.Changes) != 2 || len(res.Explain.Images) != 1 || res.Explain.Images[0].From != old || res.Explain.Images[0].To != cur {
			t.Fatalf("moves %+v", res)
		}
		var got []pkg
		for _, p := range res.Explain.Images[0].Platforms {
			for _, pc := range p.Diff.Packages {
				got = append(got, pkg{p.Platform, pc.Name, pc.From, pc.To})
			}
		}
		return got
	}
	t.Run("default platform", func(t *testing.T) {
		want := []pkg{{"linux/amd64", "nginx", "1.17.1-r0", "1.17.2-r0"}}
		if diff := cmp.Diff(want, run(t)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("two platforms", func(t *testing.T) {
		want := []pkg{{"linux/amd64", "nginx", "1.17.1-r0", "1.17.2-r0"}, {"linux/arm64", "nginx", "1.17.1-r0", "1.17.3-r0"}}
		if diff := cmp.Diff(want, run(t, "--platform", "linux/amd64,linux/arm64")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("arm64 only", func(t *testing.T) {
		want := []pkg{{"linux/arm64", "nginx", "1.17.1-r0", "1.17.3-r0"}}
		if diff := cmp.Diff(want, run(t, "--platform", "linux/arm64", "--no-cache")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// selectionTree pins four references whose tags all moved since.
func selectionTree(t *testing.T, host string, created map[string]time.Time) (files map[string]string, moved map[string]string) {
	t.Helper()
	moved = map[string]string{}
	pin := map[string]string{}
	for i, repo := range []string{"library/nginx:1-alpine", "library/redis:7", "ghcr/acme/api:1", "ghcr/acme/web:2"} {
		name := strings.TrimPrefix(strings.TrimPrefix(repo, "library/"), "ghcr/")
		// Each image its own content, so that digests tell them apart.
		pin[name] = testregistry.Push(t, host+"/"+repo, alpineImage(t, "1.0-r"+itoa(i), "linux/amd64", storyBuilt))
		at, ok := created[name]
		if !ok {
			at = storyBuilt.Add(time.Hour)
		}
		moved[name] = testregistry.Push(t, host+"/"+repo, alpineImage(t, "1.1-r"+itoa(i), "linux/amd64", at))
	}
	files = map[string]string{
		".stet.yaml":   mirrorConfig(host),
		"Dockerfile":   "FROM nginx:1-alpine@" + pin["nginx:1-alpine"] + "\nFROM redis:7@" + pin["redis:7"] + "\n",
		"compose.yaml": "services:\n  api:\n    image: ghcr.io/acme/api:1@" + pin["acme/api:1"] + "\n  web:\n    image: ghcr.io/acme/web:2@" + pin["acme/web:2"] + "\n",
	}
	return files, moved
}

// updatedNames lists which of the selection tree's references now carry
// their moved digest.
func updatedNames(t *testing.T, dir string, moved map[string]string) []string {
	tree := readTree(t, dir)
	all := tree["Dockerfile"] + tree["compose.yaml"]
	var out []string
	for name, d := range moved {
		if strings.Contains(all, d) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func TestUpdateOnlyExclude(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := testregistry.New(t)
	files, moved := selectionTree(t, host, nil)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"everything", nil, []string{"acme/api:1", "acme/web:2", "nginx:1-alpine", "redis:7"}},
		{"familiar name", []string{"--only", "nginx"}, []string{"nginx:1-alpine"}},
		{"canonical name", []string{"--only", "docker.io/library/redis"}, []string{"redis:7"}},
		{"name and tag", []string{"--only", "nginx:1-alpine"}, []string{"nginx:1-alpine"}},
		{"glob", []string{"--only", "ghcr.io/acme/*"}, []string{"acme/api:1", "acme/web:2"}},
		{"repeated", []string{"--only", "nginx", "--only", "ghcr.io/acme/web"}, []string{"acme/web:2", "nginx:1-alpine"}},
		{"exclude", []string{"--exclude", "ghcr.io/*"}, []string{"nginx:1-alpine", "redis:7"}},
		{"only and exclude", []string{"--only", "ghcr.io/acme/*", "--exclude", "*/api"}, []string{"acme/web:2"}},
		{"nothing matches", []string{"--only", "postgres"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, files)
			code, out, errOut := stetRun(t, context.Background(), append(append([]string{"update"}, tc.args...), dir)...)
			if code != ExitOK {
				t.Fatalf("update = %d\n%s%s", code, out, errOut)
			}
			if diff := cmp.Diff(tc.want, updatedNames(t, dir, moved)); diff != "" {
				t.Errorf("updated (-want +got):\n%s", diff)
			}
			if left := 4 - len(tc.want); left > 0 && !strings.Contains(errOut, itoa(left)+" reference(s) not selected by --only/--exclude were left alone") {
				t.Errorf("stderr does not count the references left alone:\n%s", errOut)
			}
		})
	}
	// An excluded image is not even looked up: its registry may be down.
	dir := writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": files["Dockerfile"] + "FROM 127.0.0.1:1/gone:1@sha256:" + strings.Repeat("0", 64) + "\n",
	})
	if code, out, errOut := stetRun(t, context.Background(), "update", "--exclude", "127.0.0.1:1/*", dir); code != ExitOK {
		t.Errorf("update excluding an unreachable registry = %d\n%s%s", code, out, errOut)
	}
}

func TestUpdateMinAge(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	now := time.Now()
	files, moved := selectionTree(t, host, map[string]time.Time{
		"nginx:1-alpine": now.Add(-100 * time.Hour), // old enough
		"redis:7":        now.Add(-5 * time.Hour),   // too fresh
		"acme/api:1":     {},                        // no creation time
		"acme/web:2":     now.Add(-73 * time.Hour),
	})
	dir := writeTree(t, files)
	code, out, errOut := stetRun(t, context.Background(), "update", "--min-age", "72h", "--format", "json", dir)
	if code != ExitOK {
		t.Fatalf("update --min-age = %d\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff([]string{"acme/web:2", "nginx:1-alpine"}, updatedNames(t, dir, moved)); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
	var res struct{ Skipped []skip }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	reasons := map[string]string{}
	for _, s := range res.Skipped {
		reasons[s.Reference] = s.Reason
	}
	if r := reasons["redis:7@"+strings.Split(strings.Split(files["Dockerfile"], "redis:7@")[1], "\n")[0]]; !strings.HasPrefix(r, "--min-age 72h: created 5h ago (") {
		t.Errorf("redis reason %q (all: %v)", r, reasons)
	}
	if len(res.Skipped) != 2 {
		t.Errorf("skipped %v, want redis and acme/api", res.Skipped)
	}
	for ref, r := range reasons {
		if strings.Contains(ref, "acme/api") && r != "--min-age: the image records no creation time, so its age is unknown" {
			t.Errorf("acme/api reason %q", r)
		}
	}

	// With --explain, the pull-request body lists what was held back.
	dir = writeTree(t, files)
	code, out, errOut = stetRun(t, context.Background(), "update", "--min-age", "72h", "--explain", "--format", "markdown", dir)
	if code != ExitOK {
		t.Fatalf("update --min-age --explain = %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"# Update ghcr.io/acme/web:2 and nginx:1-alpine", "## Held back", "- redis:7 `", "--min-age 72h: created 5h ago", "- ghcr.io/acme/api:1 `"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "skipping redis:7@") {
		t.Errorf("stderr does not report the held reference:\n%s", errOut)
	}

	// An age that cannot be checked is a failure that changes nothing.
	dir = writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": files["Dockerfile"],
	})
	if code, _, _ := stetRun(t, context.Background(), "update", "--min-age", "-1h", dir); code != ExitUsage {
		t.Errorf("negative --min-age = %d, want 2", code)
	}
}

// TestPinExplainFromLock: the lock remembers the digest nginx:1-alpine had
// when it was locked; pinning today's explains the move from it.
func TestPinExplainFromLock(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	old, cur := explainStory(t, host)
	lockJSON := `{
  "version": 1,
  "references": [
    {"kind": "image", "name": "docker.io/library/nginx", "tag": "1-alpine", "digest": "` + old + `",
     "resolvedAt": "2026-11-01T00:00:00Z", "sites": [{"file": "Dockerfile", "line": 1}]},
    {"kind": "image", "name": "docker.io/library/redis", "tag": "7", "digest": "sha256:` + strings.Repeat("1", 64) + `",
     "resolvedAt": "2026-11-01T00:00:00Z", "sites": [{"file": "Dockerfile", "line": 2}]}
  ]
}
`
	redis := testregistry.Push(t, host+"/library/redis:7", alpineImage(t, "0-r0", "linux/amd64", storyBuilt))
	files := map[string]string{
		".stet.yaml": mirrorConfig(host),
		"stet.lock":  lockJSON,
		"Dockerfile": "FROM nginx:1-alpine\nFROM redis:7\nFROM busybox:1@" + redis + "\n",
	}
	dir := writeTree(t, files)
	code, out, errOut := stetRun(t, context.Background(), "pin", "--explain", "--format", "markdown", dir)
	if code != ExitOK {
		t.Fatalf("pin --explain = %d\n%s%s", code, out, errOut)
	}
	if got := readTree(t, dir)["Dockerfile"]; !strings.HasPrefix(got, "FROM nginx:1-alpine@"+cur+"\nFROM redis:7@"+redis+"\n") {
		t.Errorf("pinned Dockerfile:\n%s", got)
	}
	for _, want := range []string{"## nginx:1-alpine `" + old[:19] + "…` → `" + cur[:19] + "…`", "| upgraded | nginx | 1.17.1-r0 → 1.17.2-r0 |",
		// redis's locked digest is gone from the registry.
		"- redis:7 `sha256:111111111111…` → `" + redis[:19] + "…`: sha256:111111111111… is no longer in the registry"} {
		if !strings.Contains(out, want) {
			t.Errorf("pin --explain lacks %q:\n%s", want, out)
		}
	}

	// Without a lock there is nothing to move from.
	delete(files, "stet.lock")
	dir = writeTree(t, files)
	code, out, errOut = stetRun(t, context.Background(), "pin", "--explain", dir)
	if code != ExitOK || strings.Contains(out, "1.17.1-r0") {
		t.Errorf("pin --explain without a lock = %d\n%s%s", code, out, errOut)
	}
}

func TestExplainUsage(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := writeTree(t, map[string]string{"Dockerfile": "FROM nginx:1\n"})
	for _, args := range [][]string{
		{"update", "--format", "markdown", dir},
		{"pin", "--format", "markdown", dir},
		{"update", "--explain-strict", dir},
		{"update", "--only", "", dir},
		{"update", "--exclude", " ", dir},
		{"update", "--min-age", "soon", dir},
		{"update", "--explain", "--format", "sarif", dir},
		{"pin", "--min-age", "1h", dir},
	} {
		if code, _, errOut := stetRun(t, context.Background(), args...); code != ExitUsage {
			t.Errorf("%v = %d, want 2\n%s", args, code, errOut)
		}
	}
}

// TestDocsScheduledWorkflow: the scheduled workflow in docs/ci.md pins
// every action by commit (stet check is clean on it) and its stet command
// line is one stet accepts.
func TestDocsScheduledWorkflow(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	doc, err := os.ReadFile(filepath.Join(origDir, "..", "..", "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	const start = "# .github/workflows/stet-update.yml\n"
	_, rest, ok := strings.Cut(string(doc), "```yaml\n"+start)
	if !ok {
		t.Fatal("docs/ci.md has no stet-update.yml workflow")
	}
	workflow, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatal("unterminated workflow block")
	}
	dir := writeTree(t, map[string]string{".github/workflows/stet-update.yml": start + workflow})
	code, out, errOut := stetRun(t, context.Background(), "check", dir)
	if code != ExitOK {
		t.Errorf("stet check on the documented workflow = %d\n%s%s", code, out, errOut)
	}
	if n := strings.Count(workflow, "uses: "); n < 2 {
		t.Errorf("%d uses: lines, want checkout and setup-go", n)
	}
	line := ""
	for _, l := range strings.Split(workflow, "\n") {
		if strings.Contains(l, "stet update ") {
			line = strings.TrimSpace(l)
		}
	}
	args := strings.Fields(strings.Split(line, ">")[0])
	if len(args) < 2 || args[0] != "stet" {
		t.Fatalf("no stet update command line in the workflow: %q", line)
	}
	// Run in a directory with nothing to update: only the flags are judged.
	empty := writeTree(t, map[string]string{"README": "nothing to pin\n"})
	code, out, errOut = stetRun(t, context.Background(), append(args[1:], empty)...)
	if code != ExitOK || !strings.HasPrefix(out, "# No digest moved\n") {
		t.Errorf("%v = %d\n%s%s", args, code, out, errOut)
	}
}

// TestUpdateExplainActions: an action's version comment points at another
// commit now. --explain lists the move beside the image's; --min-age holds
// it back, since git keeps no date for a tag move.
func TestUpdateExplainActions(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	old, cur := explainStory(t, host)
	root := t.TempDir()
	tagged, head := actionsRepo(t, root, "actions/checkout")
	gitURL := testgit.Server(t, root)
	files := storyTree(host, old)
	files[".stet.yaml"] = mirrorConfig(host, "actions:\n  gitURL: "+gitURL+"\n")
	files[".github/workflows/ci.yml"] = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@" + head + " # v4\n"

	dir := writeTree(t, files)
	code, out, errOut := stetRun(t, context.Background(), "update", "--explain", "--format", "markdown", dir)
	if code != ExitOK {
		t.Fatalf("update --explain = %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"# Update nginx:1-alpine and actions/checkout@v4",
		"## Actions",
		"| actions/checkout | v4 `" + head[:12] + "…` | v4.2.2 `" + tagged[:12] + "…` | `.github/workflows/ci.yml:6` |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if got := readTree(t, dir)[".github/workflows/ci.yml"]; !strings.Contains(got, tagged+" # v4.2.2") {
		t.Errorf("workflow not updated:\n%s", got)
	}

	// The new nginx was built 48 hours after 2019-07-23: old enough. The
	// action's age is unknown: held.
	dir = writeTree(t, files)
	code, out, errOut = stetRun(t, context.Background(), "update", "--explain", "--min-age", "72h", dir)
	if code != ExitOK {
		t.Fatalf("update --min-age = %d\n%s%s", code, out, errOut)
	}
	tree := readTree(t, dir)
	if tree[".github/workflows/ci.yml"] != files[".github/workflows/ci.yml"] || !strings.Contains(tree["Dockerfile"], cur) {
		t.Errorf("want nginx updated and the action held:\n%v", tree)
	}
	if !strings.Contains(out, "held back: actions/checkout@v4") || !strings.Contains(errOut, "the age of a commit is unknown") {
		t.Errorf("the held action is not reported:\n%s\n%s", out, errOut)
	}
}

// TestUpdateExplainDistribution runs the story, and a vanished old digest,
// against the CNCF Distribution registry with basic auth: its answers to
// manifests it does not have differ from the in-process registry's.
func TestUpdateExplainDistribution(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.Distribution(t, testregistry.Options{User: "stet", Password: "s3cret"})
	testregistry.DockerConfig(t, map[string][2]string{host: {"stet", "s3cret"}})
	auth := testregistry.Auth("stet", "s3cret")
	old := testregistry.Push(t, host+"/library/nginx:1-alpine", alpineImage(t, "1.17.1-r0", "linux/amd64", storyBuilt), auth)
	cur := testregistry.Push(t, host+"/library/nginx:1-alpine", alpineImage(t, "1.17.2-r0", "linux/amd64", storyBuilt.Add(48*time.Hour)), auth)
	vanished, err := alpineImage(t, "1.16.0-r0", "linux/amd64", storyBuilt).Digest()
	if err != nil {
		t.Fatal(err)
	}
	files := storyTree(host, old)
	files["legacy/Dockerfile"] = "FROM nginx:1-alpine@" + vanished.String() + "\n"
	dir := writeTree(t, files)
	code, out, errOut := stetRun(t, context.Background(), "update", "--explain", "--min-age", "72h", "--format", "markdown", dir)
	if code != ExitOK {
		t.Fatalf("update --explain = %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"## nginx:1-alpine `" + old[:19] + "…` → `" + cur[:19] + "…`",
		"| upgraded | nginx | 1.17.1-r0 → 1.17.2-r0 |",
		"- nginx:1-alpine `" + vanished.String()[:19] + "…` → `" + cur[:19] + "…`: " + vanished.String()[:19] + "… is no longer in the registry",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if got := readTree(t, dir)["legacy/Dockerfile"]; !strings.Contains(got, cur) {
		t.Errorf("legacy/Dockerfile not updated: %s", got)
	}
}
