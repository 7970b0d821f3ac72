package resolve_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testgit"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=stet", "-c", "user.email=stet@example.invalid",
		"-c", "init.defaultBranch=main", "-c", "tag.gpgSign=false", "-c", "commit.gpgSign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

type actionRepo struct {
	commits map[string]string // label → commit
}

// makeActionRepo creates root/owner/repo.git with three commits:
//
//	c1: v1.0.0 (lightweight), v1 (lightweight), branch release/v1
//	c2: v4.2.1 (annotated)
//	c3: v4.2.2 and v4.2 (annotated), v4 (annotated, pointing at the v4.2.2 tag object), v4.2.2-rc.1, branch main,
//	    and a branch named v9 next to a tag v9 on c1 (the tag wins)
func makeActionRepo(t *testing.T, root, owner, repo string) actionRepo {
	t.Helper()
	work := t.TempDir()
	git(t, work, "init", "-q")
	ar := actionRepo{commits: map[string]string{}}
	commit := func(label string) string {
		os.WriteFile(filepath.Join(work, "action.yml"), []byte("name: "+label+"\n"), 0o644)
		git(t, work, "add", "action.yml")
		git(t, work, "commit", "-q", "-m", label)
		c := git(t, work, "rev-parse", "HEAD")
		ar.commits[label] = c
		return c
	}
	commit("c1")
	git(t, work, "tag", "v1.0.0")
	git(t, work, "tag", "v1")
	git(t, work, "tag", "v9")
	git(t, work, "branch", "release/v1")
	commit("c2")
	git(t, work, "tag", "-a", "-m", "v4.2.1", "v4.2.1")
	commit("c3")
	git(t, work, "tag", "-a", "-m", "v4.2.2", "v4.2.2")
	git(t, work, "tag", "-a", "-m", "v4.2", "v4.2")
	git(t, work, "tag", "v4.2.2-rc.1")
	// An annotated tag of a tag: peeling must follow the chain.
	git(t, work, "tag", "-a", "-m", "v4", "v4", "v4.2.2")
	git(t, work, "branch", "v9")
	bare := filepath.Join(root, owner, repo+".git")
	os.MkdirAll(filepath.Dir(bare), 0o755)
	git(t, work, "clone", "-q", "--bare", work, bare)
	return ar
}

func TestActions(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	ar := makeActionRepo(t, root, "actions", "checkout")
	url := testgit.Server(t, root)
	p := faultproxy.New(t, strings.TrimPrefix(url, "http://"))
	r := newResolver(t, resolve.WithGitURL(p.URL))
	var refs []ref.Ref
	for _, s := range []string{"actions/checkout@v4", "actions/checkout@v4.2.2", "actions/checkout@v1",
		"actions/checkout@v4.2.1", "actions/checkout@main", "actions/checkout@release/v1", "actions/checkout/sub/path@v4",
		"actions/checkout@v9"} {
		var rf ref.Ref
		if err := rf.SetAction(s); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, rf)
	}
	res, err := r.Resolve(t.Context(), refs)
	if err != nil {
		t.Fatal(err)
	}
	type got struct{ Digest, Version string }
	gotm := map[string]got{}
	for k, v := range res.Results {
		gotm[k] = got{v.Digest, v.Version}
	}
	want := map[string]got{
		"actions/checkout@v4":         {ar.commits["c3"], "v4.2.2"},
		"actions/checkout@v4.2.2":     {ar.commits["c3"], "v4.2.2"},
		"actions/checkout@v1":         {ar.commits["c1"], "v1.0.0"},
		"actions/checkout@v4.2.1":     {ar.commits["c2"], "v4.2.1"},
		"actions/checkout@main":       {ar.commits["c3"], "main"},
		"actions/checkout@release/v1": {ar.commits["c1"], "release/v1"},
		"actions/checkout@v9":         {ar.commits["c1"], "v9"},
	}
	if diff := cmp.Diff(want, gotm); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if n := p.Count(http.MethodGet, faultproxy.Git); n != 1 {
		t.Errorf("ref listings = %d, want 1 for one repository", n)
	}

	ok, current, err := r.VerifyAction(t.Context(), "actions/checkout", "v4.2.2", ar.commits["c3"])
	if err != nil || !ok || current != ar.commits["c3"] {
		t.Errorf("VerifyAction(matching) = %v, %s, %v", ok, current, err)
	}
	ok, current, err = r.VerifyAction(t.Context(), "actions/checkout", "v4.2.2", ar.commits["c1"])
	if err != nil || ok || current != ar.commits["c3"] {
		t.Errorf("VerifyAction(stale) = %v, %s, %v; want false, %s", ok, current, err, ar.commits["c3"])
	}
}

func TestActionErrors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeActionRepo(t, root, "o", "r")
	url := testgit.Server(t, root)
	r := newResolver(t, resolve.WithGitURL(url))
	for _, tc := range []struct{ repo, tag, want string }{
		{"o/r", "v7", "no such tag or branch"},
		{"o/missing", "v1", "repository not found"},
	} {
		res := r.Action(t.Context(), tc.repo, tc.tag)
		if res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) || res.Digest != "" {
			t.Errorf("%s@%s: %+v; want error containing %q", tc.repo, tc.tag, res, tc.want)
		}
		if !errors.Is(res.Err, resolve.ErrUnknownRef) && !errors.Is(res.Err, registry.ErrNotFound) {
			t.Errorf("%s@%s: %v matches neither ErrUnknownRef nor registry.ErrNotFound", tc.repo, tc.tag, res.Err)
		}
	}
	// A plain web server is not a git server.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) }))
	t.Cleanup(plain.Close)
	r = newResolver(t, resolve.WithGitURL(plain.URL))
	if res := r.Action(t.Context(), "o/r", "v1"); res.Err == nil || !strings.Contains(res.Err.Error(), "not a smart-HTTP git server") {
		t.Errorf("plain web server: %v", res.Err)
	}
}

// TestPrivateAction: a private repository resolves with a token, and
// without one (or with a wrong one) fails with a message that says why,
// never showing the token.
func TestPrivateAction(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	ar := makeActionRepo(t, root, "acme", "deploy")
	const token = "ghs_secret0123456789"
	url := testgit.PrivateServer(t, root, token)

	res := newResolver(t, resolve.WithGitURL(url), resolve.WithGitToken(token)).Action(t.Context(), "acme/deploy", "v4")
	if res.Err != nil || res.Digest != ar.commits["c3"] || res.Version != "v4.2.2" {
		t.Errorf("with the token: %+v; want %s (v4.2.2)", res, ar.commits["c3"])
	}
	for _, tc := range []struct {
		name  string
		opts  []resolve.Option
		wants string
	}{
		{"no token", nil, "private, and no token was given"},
		{"wrong token", []resolve.Option{resolve.WithGitToken("ghs_wrong")}, "private, and the credentials given cannot read it"},
	} {
		res := newResolver(t, append(tc.opts, resolve.WithGitURL(url))...).Action(t.Context(), "acme/deploy", "v4")
		if res.Err == nil || !strings.Contains(res.Err.Error(), tc.wants) || !errors.Is(res.Err, registry.ErrNotFound) {
			t.Errorf("%s: %v; want ErrNotFound saying %q", tc.name, res.Err, tc.wants)
		} else if strings.Contains(res.Err.Error(), "ghs_") {
			t.Errorf("%s: the error shows a token: %v", tc.name, res.Err)
		}
	}
}

// TestGitURLCredentials: a user and password written into the git URL
// are sent, as git would, but never shown in a message.
func TestGitURLCredentials(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	ar := makeActionRepo(t, root, "acme", "deploy")
	base := testgit.PrivateServer(t, root, "s3cretpw")
	withCreds := strings.Replace(base, "http://", "http://u:s3cretpw@", 1)
	res := newResolver(t, resolve.WithGitURL(withCreds)).Action(t.Context(), "acme/deploy", "v4")
	if res.Err != nil || res.Digest != ar.commits["c3"] {
		t.Errorf("with credentials in the URL: %+v", res)
	}
	wrong := strings.Replace(base, "http://", "http://u:wrongpw@", 1)
	for _, repo := range []string{"acme/deploy", "acme/missing"} {
		res = newResolver(t, resolve.WithGitURL(wrong)).Action(t.Context(), repo, "v4")
		if res.Err == nil {
			t.Fatalf("%s with wrong credentials resolved", repo)
		}
		if msg := res.Err.Error(); strings.Contains(msg, "wrongpw") || !strings.Contains(msg, "credentials given cannot read it") || !strings.Contains(msg, ": git host 127.0.0.1:") {
			t.Errorf("%s: %s", repo, msg)
		}
	}
}

// TestActionFaults: a 500, a reset and a listing cut short are retried; a
// server that keeps failing gives a clear error, never a commit.
func TestActionFaults(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	ar := makeActionRepo(t, root, "o", "r")
	url := testgit.Server(t, root)
	for _, tc := range []struct {
		name    string
		faults  []faultproxy.Fault
		wantErr string
	}{
		{"500 once", []faultproxy.Fault{{Kind: faultproxy.Git, Status: 500, Times: 1}}, ""},
		{"reset once", []faultproxy.Fault{{Kind: faultproxy.Git, Reset: true, Times: 1}}, ""},
		{"truncated twice", []faultproxy.Fault{{Kind: faultproxy.Git, Truncate: true, Times: 2}}, ""},
		{"always truncated", []faultproxy.Fault{{Kind: faultproxy.Git, Truncate: true}}, "reading refs"},
		{"always 503", []faultproxy.Fault{{Kind: faultproxy.Git, Status: 503}}, "503 Service Unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := faultproxy.New(t, strings.TrimPrefix(url, "http://"))
			p.Add(tc.faults...)
			res := newResolver(t, resolve.WithGitURL(p.URL)).Action(t.Context(), "o/r", "v4")
			if tc.wantErr == "" {
				if res.Err != nil || res.Digest != ar.commits["c3"] {
					t.Fatalf("got %s, %v; want %s", res.Digest, res.Err, ar.commits["c3"])
				}
				return
			}
			if res.Err == nil || res.Digest != "" || !strings.Contains(res.Err.Error(), tc.wantErr) {
				t.Fatalf("got %q, %v; want an error containing %q", res.Digest, res.Err, tc.wantErr)
			}
		})
	}
}
