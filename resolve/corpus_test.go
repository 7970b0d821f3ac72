package resolve_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testgit"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
)

// TestCorpus resolves every reference found in the corpus of real
// configuration files, with every registry mirrored to one empty local
// registry and actions pointed at an empty git server. Each reference must
// turn into a well-formed request that ends in a clear "not found" naming
// it: no parse failure, no panic, no result without an error, and exactly
// one request per unique reference.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus walk")
	}
	report, err := scan.Walk(t.Context(), []string{"../testdata/corpus"}, scan.Options{Scanners: formats.Default()})
	if err != nil {
		t.Fatal(err)
	}
	var refs []ref.Ref
	for _, f := range report.Files {
		refs = append(refs, f.Refs...)
	}
	host := testregistry.New(t)
	p := faultproxy.New(t, host)
	mirrors := map[string]string{}
	images, repos := map[string]bool{}, map[string]bool{}
	for _, r := range refs {
		if !resolve.Resolvable(r) {
			continue
		}
		if r.Kind == ref.Action {
			repos[ref.ActionRepo(r.Name)] = true
			continue
		}
		images[r.Key()] = true
		reg, _, _ := strings.Cut(r.Name, "/")
		mirrors[reg] = p.Host + "/" + strings.NewReplacer(":", "-", ".", "-").Replace(reg)
	}
	if len(images) < 100 || len(repos) < 20 {
		t.Fatalf("corpus gave %d images and %d action repositories; the scanners found too little", len(images), len(repos))
	}
	git := faultproxy.New(t, strings.TrimPrefix(testgit.Server(t, t.TempDir()), "http://"))
	r := newResolverWith(t, newClient(t, registry.WithMirrors(mirrors)), resolve.WithGitURL(git.URL))
	res, err := r.Resolve(t.Context(), refs)
	if err == nil {
		t.Fatal("resolving against empty servers succeeded")
	}
	for key, v := range res.Results {
		switch {
		case v.Err == nil || v.Digest != "":
			t.Errorf("%s: resolved to %q against empty servers", key, v.Digest)
		case v.Kind == ref.Image && (!errors.Is(v.Err, registry.ErrNotFound) || !strings.Contains(v.Err.Error(), key)):
			t.Errorf("%s: %v; want not found, naming the reference", key, v.Err)
		case v.Kind == ref.Action && !strings.Contains(v.Err.Error(), "repository not found"):
			t.Errorf("%s: %v; want repository not found", key, v.Err)
		}
	}
	if n := p.Count(http.MethodHead, faultproxy.Manifest); n != len(images) {
		t.Errorf("%d HEADs for %d unique images", n, len(images))
	}
	if n := p.Count(http.MethodGet, faultproxy.Ping); n != 1 {
		t.Errorf("%d pings, want 1 (every mirror is on one host)", n)
	}
	if n := git.Count(http.MethodGet, faultproxy.Git); n != len(repos) {
		t.Errorf("%d ref listings for %d repositories", n, len(repos))
	}
	t.Logf("%d sites, %d unique images over %d registries, %d action repositories", len(refs), len(images), len(mirrors), len(repos))
}
