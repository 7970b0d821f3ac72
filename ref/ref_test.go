package ref

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const d64 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseImage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want ImageRef
		tag  string // TagOrLatest
	}{
		{"nginx", ImageRef{"docker.io", "library/nginx", "", ""}, "latest"},
		{"nginx:1-alpine", ImageRef{"docker.io", "library/nginx", "1-alpine", ""}, "1-alpine"},
		{"docker.io/nginx:1", ImageRef{"docker.io", "library/nginx", "1", ""}, "1"},
		{"index.docker.io/library/nginx:1", ImageRef{"docker.io", "library/nginx", "1", ""}, "1"},
		{"grafana/grafana:11.0.0", ImageRef{"docker.io", "grafana/grafana", "11.0.0", ""}, "11.0.0"},
		{"ghcr.io/org/app:v1.2", ImageRef{"ghcr.io", "org/app", "v1.2", ""}, "v1.2"},
		{"localhost:5000/app", ImageRef{"localhost:5000", "app", "", ""}, "latest"},
		{"localhost/app:1", ImageRef{"localhost", "app", "1", ""}, "1"},
		{"127.0.0.1:5000/a/b/c:x", ImageRef{"127.0.0.1:5000", "a/b/c", "x", ""}, "x"},
		{"nginx@" + d64, ImageRef{"docker.io", "library/nginx", "", d64}, ""},
		{"nginx:1.27@" + d64, ImageRef{"docker.io", "library/nginx", "1.27", d64}, "1.27"},
		{"registry.k8s.io/pause:3.9", ImageRef{"registry.k8s.io", "pause", "3.9", ""}, "3.9"},
	} {
		got, err := ParseImage(tc.in)
		if err != nil {
			t.Errorf("ParseImage(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseImage(%q) (-want +got)\n%s", tc.in, diff)
		}
		if got.TagOrLatest() != tc.tag {
			t.Errorf("ParseImage(%q).TagOrLatest() = %q, want %q", tc.in, got.TagOrLatest(), tc.tag)
		}
		again, err := ParseImage(got.String())
		if err != nil || again != got {
			t.Errorf("round trip of %q through %q: %+v, %v", tc.in, got.String(), again, err)
		}
	}
}

func TestParseImageErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", " nginx", "nginx ", "Nginx:1", "nginx:", "nginx:-x", "nginx@sha256:abc", "nginx@md5:" + strings.Repeat("a", 32),
		"${IMAGE}", "nginx:${TAG}", ":1", "a//b", "nginx:" + strings.Repeat("x", 129), "http://x/y",
	} {
		if _, err := ParseImage(in); err == nil || !errors.Is(err, ErrNotImage) {
			t.Errorf("ParseImage(%q) = %v, want ErrNotImage", in, err)
		}
	}
}

func TestFamiliarName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"docker.io/library/nginx": "nginx",
		"docker.io/grafana/loki":  "grafana/loki",
		"ghcr.io/library/x":       "ghcr.io/library/x",
		"quay.io/a/b":             "quay.io/a/b",
	} {
		if got := FamiliarName(in); got != want {
			t.Errorf("FamiliarName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseAction(t *testing.T) {
	t.Parallel()
	sha := strings.Repeat("a1", 20)
	for _, tc := range []struct {
		in     string
		want   ActionRef
		pinned bool
	}{
		{"actions/checkout@v4", ActionRef{"actions", "checkout", "", "v4"}, false},
		{"github/codeql-action/init@v3", ActionRef{"github", "codeql-action", "init", "v3"}, false},
		{"org/repo/.github/workflows/build.yml@main", ActionRef{"org", "repo", ".github/workflows/build.yml", "main"}, false},
		{"actions/checkout@" + sha, ActionRef{"actions", "checkout", "", sha}, true},
		{"my-org/my.repo_x@release/v1", ActionRef{"my-org", "my.repo_x", "", "release/v1"}, false},
	} {
		got, err := ParseAction(tc.in)
		if err != nil {
			t.Errorf("ParseAction(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseAction(%q) (-want +got)\n%s", tc.in, diff)
		}
		if got.Pinned() != tc.pinned {
			t.Errorf("ParseAction(%q).Pinned() = %v", tc.in, got.Pinned())
		}
		if got.Name()+"@"+got.Ref != tc.in {
			t.Errorf("Name()@Ref = %q, want %q", got.Name()+"@"+got.Ref, tc.in)
		}
	}
	for _, in := range []string{"./local", "actions/checkout", "actions@v1", "actions/checkout@", "-x/y@v1", "a/../b@v1"[:0] + "a/..@v1", "docker://alpine:3", "a/b@v 1"} {
		if _, err := ParseAction(in); err == nil {
			t.Errorf("ParseAction(%q) succeeded, want an error", in)
		}
	}
}

func TestRefMethods(t *testing.T) {
	t.Parallel()
	var r Ref
	if err := r.SetImage("nginx:1-alpine@" + d64); err != nil {
		t.Fatal(err)
	}
	if r.Kind != Image || r.Name != "docker.io/library/nginx" || r.Tag != "1-alpine" || r.Digest != d64 || !r.Pinned() {
		t.Errorf("SetImage: %+v", r)
	}
	if r.Key() != "docker.io/library/nginx:1-alpine" || r.Short() != "nginx:1-alpine" {
		t.Errorf("Key %q Short %q", r.Key(), r.Short())
	}
	var a Ref
	sha := strings.Repeat("0f", 20)
	if err := a.SetAction("github/codeql-action/init@" + sha); err != nil {
		t.Fatal(err)
	}
	if a.Kind != Action || a.Digest != sha || a.Tag != "" || !a.Pinned() {
		t.Errorf("SetAction: %+v", a)
	}
	a.Tag = "v3.1.0"
	if a.Key() != "github/codeql-action@v3.1.0" || a.Short() != "github/codeql-action/init@v3.1.0" {
		t.Errorf("action Key %q Short %q", a.Key(), a.Short())
	}
	if err := r.SetImage("${X}"); err == nil {
		t.Error("SetImage of a variable must fail")
	}
	if Compare(Ref{File: "a", Line: 2}, Ref{File: "a", Line: 10}) >= 0 || Compare(Ref{File: "b"}, Ref{File: "a", Line: 9}) <= 0 {
		t.Error("Compare orders by file then line")
	}
}

func FuzzParseImage(f *testing.F) {
	for _, s := range []string{"nginx", "nginx:1-alpine@" + d64, "localhost:5000/a/b:c", "ghcr.io/x/y", "a:b:c", "A/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		im, err := ParseImage(s)
		if err != nil {
			return
		}
		if im.Registry == "" || im.Repository == "" {
			t.Fatalf("ParseImage(%q) = %+v: empty registry or repository", s, im)
		}
		again, err := ParseImage(im.String())
		if err != nil || again != im {
			t.Fatalf("canonical form %q of %q does not parse back: %+v, %v", im.String(), s, again, err)
		}
	})
}

func FuzzParseAction(f *testing.F) {
	for _, s := range []string{"actions/checkout@v4", "a/b/c/d@x", "./x", "a/b@" + strings.Repeat("a", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAction(s)
		if err != nil {
			return
		}
		if a.Name()+"@"+a.Ref != s {
			t.Fatalf("ParseAction(%q) does not rebuild its input: %+v", s, a)
		}
		if ActionRepo(a.Name()) != a.Owner+"/"+a.Repo {
			t.Fatalf("ActionRepo(%q) = %q", a.Name(), ActionRepo(a.Name()))
		}
	})
}
