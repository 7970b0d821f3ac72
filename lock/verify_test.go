package lock

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/internal/testgit"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
	"github.com/stet-dev/stet/rules"
)

func TestVerifyFiles(t *testing.T) {
	t.Parallel()
	lk := Build(nil, sampleRefs(), sampleResolve, t0)
	data := lk.Marshal()
	lk, err := Parse("stet.lock", data)
	if err != nil {
		t.Fatal(err)
	}
	f := func(file string, line int, msg, reference, expected, actual string) rules.Finding {
		col, end := 6, 20
		if strings.HasSuffix(file, ".yml") {
			col, end = 15, 40
		}
		if file == "stet.lock" {
			col, end = 1, 1
		}
		return rules.Finding{Rule: "STET010", Severity: rules.Error, File: file, Line: line, Column: col,
			EndLine: line, EndColumn: end, Message: msg, Reference: reference, Expected: expected, Actual: actual}
	}
	tests := []struct {
		name  string
		refs  []ref.Ref
		stale bool
		want  []rules.Finding
	}{
		{"agree", sampleRefs(), true, nil},
		{"unpinned file ref agrees with any entry of its tag", []ref.Ref{img("new/Dockerfile", 2, nginx, "1-alpine", "")}, false, nil},
		{"pinned to another digest", []ref.Ref{img("web/Dockerfile", 1, nginx, "1-alpine", dB)}, false, []rules.Finding{
			f("web/Dockerfile", 1, "nginx:1-alpine is pinned to sha256:bbbbbbbbbbbb… here but stet.lock has sha256:aaaaaaaaaaaa…", "nginx:1-alpine", dA, dB),
		}},
		{"missing entry", []ref.Ref{img("web/Dockerfile", 1, nginx, "1.27", "")}, false, []rules.Finding{
			f("web/Dockerfile", 1, "nginx:1.27 is not in stet.lock (run stet lock)", "nginx:1.27", "", ""),
		}},
		{"digest-only missing", []ref.Ref{img("a/Dockerfile", 4, "ghcr.io/org/base", "", dA)}, false, []rules.Finding{
			f("a/Dockerfile", 4, "ghcr.io/org/base@"+dA+" is pinned to sha256:aaaaaaaaaaaa… here but stet.lock has sha256:cccccccccccc…", "ghcr.io/org/base@"+dA, dC, dA),
		}},
		{"action commit differs", []ref.Ref{act(".github/workflows/ci.yml", 8, "actions/checkout", "v4.2.2", c2)}, false, []rules.Finding{
			f(".github/workflows/ci.yml", 8, "actions/checkout@v4.2.2 is pinned to 222222222222… here but stet.lock has 111111111111…", "actions/checkout@v4.2.2", c1, c2),
		}},
		{"dynamic skipped", []ref.Ref{{File: "x", Line: 1, Kind: ref.Image, Dynamic: true, Name: nginx, Tag: "${T}"}}, false, nil},
		{"stale entries", sampleRefs()[:2], true, []rules.Finding{
			f("stet.lock", 4, "stet.lock entry actions/checkout@"+c1+" is used by no file (run stet lock)", "actions/checkout@v4.2.2", c1, ""),
			f("stet.lock", 14, "stet.lock entry github/codeql-action/init@"+c2+" is used by no file (run stet lock)", "github/codeql-action/init@v3", c2, ""),
			f("stet.lock", 37, "stet.lock entry redis:7@"+dB+" is used by no file (run stet lock)", "redis:7", dB, ""),
			f("stet.lock", 47, "stet.lock entry ghcr.io/org/base@"+dC+" is used by no file (run stet lock)", "ghcr.io/org/base@"+dC, dC, ""),
		}},
		{"stale off for a partial check", sampleRefs()[:2], false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := VerifyFiles(lk, "stet.lock", tt.refs, FilesOptions{Stale: tt.stale})
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(rules.Finding{})); diff != "" {
				t.Errorf("VerifyFiles (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, FileName)
	if fs, err := Check(p, sampleRefs(), true); err != nil || fs != nil {
		t.Fatalf("no lock: %v %v", fs, err)
	}
	os.WriteFile(p, Build(nil, sampleRefs(), sampleResolve, t0).Marshal(), 0o644)
	if fs, err := Check(p, sampleRefs(), true); err != nil || len(fs) != 0 {
		t.Fatalf("agreeing lock: %v %v", fs, err)
	}
	refs := append(sampleRefs(), img("extra/Dockerfile", 1, "docker.io/library/busybox", "1", ""))
	fs, err := Check(p, refs, true)
	if err != nil || len(fs) != 1 || fs[0].File != "extra/Dockerfile" {
		t.Fatalf("missing entry: %v %v", fs, err)
	}
	os.WriteFile(p, []byte("{\"version\": 1,"), 0o644)
	if _, err := Check(p, refs, true); err == nil || !strings.Contains(err.Error(), FileName+":1:") {
		t.Fatalf("corrupt lock: %v", err)
	}
}

// actionRepo makes owner/repo.git under root with two commits: v1.0.0 (an
// annotated tag) and v1 on the first, v1.1.0 on the second. It returns the
// two commits.
func actionRepo(t *testing.T, root, repo string) (first, second string) {
	t.Helper()
	work := t.TempDir()
	testgit.Run(t, work, "init", "-q", "-b", "main")
	testgit.Run(t, work, "commit", "-q", "--allow-empty", "-m", "one")
	first = testgit.Run(t, work, "rev-parse", "HEAD")
	testgit.Run(t, work, "tag", "-a", "-m", "v1.0.0", "v1.0.0")
	testgit.Run(t, work, "tag", "v1")
	testgit.Run(t, work, "commit", "-q", "--allow-empty", "-m", "two")
	second = testgit.Run(t, work, "rev-parse", "HEAD")
	testgit.Run(t, work, "tag", "v1.1.0")
	bare := filepath.Join(root, repo+".git")
	os.MkdirAll(filepath.Dir(bare), 0o755)
	testgit.Run(t, work, "clone", "-q", "--bare", work, bare)
	return first, second
}

func TestVerifyRemote(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	locked := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	steady := testregistry.Push(t, host+"/app/api:2", testregistry.Image(t, ""))
	gone := "sha256:" + strings.Repeat("0", 64)
	moved := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, "linux/arm64"))

	gitRoot := t.TempDir()
	first, second := actionRepo(t, gitRoot, "actions/checkout")
	gitURL := testgit.Server(t, gitRoot)

	c, err := registry.New()
	if err != nil {
		t.Fatal(err)
	}
	res, err := resolve.New(c, resolve.WithGitURL(gitURL))
	if err != nil {
		t.Fatal(err)
	}
	nginxName := host + "/library/nginx"
	lk := &Lock{Version: 1, References: []Entry{
		{Kind: ref.Image, Name: nginxName, Tag: "1-alpine", Digest: locked, ResolvedAt: t0,
			Sites: []Site{{File: "Dockerfile", Line: 1}}},
		{Kind: ref.Image, Name: host + "/app/api", Tag: "2", Digest: steady, ResolvedAt: t0,
			Sites: []Site{{File: "deploy.yaml", Line: 7}}},
		{Kind: ref.Image, Name: host + "/app/api", Tag: "", Digest: gone, ResolvedAt: t0,
			Sites: []Site{{File: "deploy.yaml", Line: 9}}},
		{Kind: ref.Image, Name: host + "/app/gone", Tag: "1", Digest: gone, ResolvedAt: t0, Line: 30},
		{Kind: ref.Action, Name: "actions/checkout", Tag: "v1", Digest: second, ResolvedAt: t0,
			Sites: []Site{{File: "ci.yml", Line: 3}}},
		{Kind: ref.Action, Name: "actions/checkout", Tag: "v1.1.0", Digest: first, ResolvedAt: t0,
			Sites: []Site{{File: "ci.yml", Line: 4}}},
	}}
	refs := []ref.Ref{
		img("Dockerfile", 1, nginxName, "1-alpine", ""),
		act("ci.yml", 4, "actions/checkout", "v1.1.0", first),
		act("ci.yml", 5, "actions/checkout", "v1.0.0", first),
		act("ci.yml", 6, "actions/checkout", "v9", first),
	}
	got, err := VerifyRemote(ctx, lk, "stet.lock", refs, ResolverRemote(res), RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	short := func(d string) string { return d[:19] + "…" }
	want := []rules.Finding{
		{Rule: "STET011", Severity: rules.Error, File: "Dockerfile", Line: 1, Column: 6, EndLine: 1, EndColumn: 20,
			Message:   fmt.Sprintf("%s:1-alpine moved: %s → %s, locked 2026-11-02", nginxName, short(locked), short(moved)),
			Reference: nginxName + ":1-alpine", Expected: locked, Actual: moved},
		{Rule: "STET011", Severity: rules.Error, File: "ci.yml", Line: 3, Column: 1, EndLine: 3, EndColumn: 1,
			Message:   "actions/checkout@v1 moved: " + second[:12] + "… → " + first[:12] + "…, locked 2026-11-02",
			Reference: "actions/checkout@v1", Expected: second, Actual: first},
		{Rule: "STET013", Severity: rules.Error, File: "ci.yml", Line: 4, Column: 15, EndLine: 4, EndColumn: 40,
			Message:   "actions/checkout@" + first[:12] + "… does not match its version comment: v1.1.0 is " + second[:12] + "…",
			Reference: "actions/checkout@v1.1.0", Expected: second, Actual: first},
		{Rule: "STET013", Severity: rules.Error, File: "ci.yml", Line: 6, Column: 15, EndLine: 6, EndColumn: 40,
			Message:   "actions/checkout@" + first[:12] + "…: its version comment v9 names no tag of actions/checkout",
			Reference: "actions/checkout@v9", Actual: first},
		{Rule: "STET012", Severity: rules.Error, File: "deploy.yaml", Line: 9, Column: 1, EndLine: 9, EndColumn: 1,
			Message:   host + "/app/api@" + gone + " no longer exists in " + host + "/app/api: a rollback to it cannot be reproduced",
			Reference: host + "/app/api@" + gone, Expected: gone},
		{Rule: "STET011", Severity: rules.Error, File: "stet.lock", Line: 30, Column: 1, EndLine: 30, EndColumn: 1,
			Message:   host + "/app/gone:1 no longer exists upstream (locked sha256:000000000000…, 2026-11-02)",
			Reference: host + "/app/gone:1", Expected: gone},
		{Rule: "STET012", Severity: rules.Error, File: "stet.lock", Line: 30, Column: 1, EndLine: 30, EndColumn: 1,
			Message:   host + "/app/gone:1@" + gone + " no longer exists in " + host + "/app/gone: a rollback to it cannot be reproduced",
			Reference: host + "/app/gone:1", Expected: gone},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(rules.Finding{})); diff != "" {
		t.Errorf("VerifyRemote (-want +got):\n%s", diff)
	}
}

func TestVerifyRemoteUnreachable(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	s := httptest.NewServer(nil)
	host := strings.TrimPrefix(s.URL, "http://")
	s.Close() // nothing listens there any more
	c, err := registry.New(registry.WithRetry(registry.RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := resolve.New(c)
	lk := &Lock{Version: 1, References: []Entry{{Kind: ref.Image, Name: host + "/a/b", Tag: "1", Digest: dA, ResolvedAt: t0}}}
	got, err := VerifyRemote(context.Background(), lk, "stet.lock", nil, ResolverRemote(res), RemoteOptions{})
	if err == nil {
		t.Fatalf("unreachable registry gave no error; findings %v", got)
	}
	if len(got) != 0 {
		t.Errorf("findings from an unanswered question: %v", got)
	}
	if !strings.Contains(err.Error(), host) {
		t.Errorf("error %q does not name the registry", err)
	}
}
