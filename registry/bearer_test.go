package registry_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/registry"
)

// tokenRegistry is a registry with Docker-style token authentication, as
// Docker Hub and ghcr.io have: /v2/ answers 401 with a Bearer challenge,
// /token exchanges basic credentials for a token granting the requested
// scopes, and every repository request needs a token with its scope.
type tokenRegistry struct {
	host       string
	user, pass string
	tokens     atomic.Int32
	// gen is stamped into tokens; bumping it expires every token issued.
	gen atomic.Int32
	// oneScope makes the token server refuse requests for several scopes.
	oneScope atomic.Bool
}

func newTokenRegistry(t *testing.T, user, pass string) *tokenRegistry {
	tr := &tokenRegistry{user: user, pass: pass}
	backend := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tr.tokens.Add(1)
			if u, p, ok := r.BasicAuth(); tr.user != "" && (!ok || u != tr.user || p != tr.pass) {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"incorrect username or password"}]}`)
				return
			}
			scopes := r.URL.Query()["scope"]
			if len(scopes) > 1 && tr.oneScope.Load() {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"errors":[{"code":"DENIED","message":"one scope per token"}]}`)
				return
			}
			tok := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprint(tr.gen.Load()) + " " + strings.Join(scopes, " ")))
			json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
			return
		}
		need := ""
		if rest, ok := strings.CutPrefix(r.URL.Path, "/v2/"); ok && rest != "" {
			if i := strings.LastIndex(rest, "/manifests/"); i > 0 {
				need = "repository:" + rest[:i] + ":pull"
			} else if i := strings.LastIndex(rest, "/blobs/"); i > 0 {
				need = "repository:" + rest[:i] + ":pull"
			}
		}
		granted := ""
		if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			b, _ := base64.RawURLEncoding.DecodeString(h)
			if gen, scopes, _ := strings.Cut(string(b), " "); gen == fmt.Sprint(tr.gen.Load()) {
				granted = " " + scopes + " "
			}
		}
		if granted == "" || (need != "" && !strings.Contains(granted, " "+need+" ") && !strings.Contains(granted, " "+need+",push ")) {
			ch := fmt.Sprintf(`Bearer realm="http://%s/token",service="test"`, r.Host)
			if need != "" {
				ch += fmt.Sprintf(`,scope="%s"`, need)
			}
			w.Header().Set("WWW-Authenticate", ch)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	tr.host = strings.TrimPrefix(s.URL, "http://")
	return tr
}

func TestBearerTokens(t *testing.T) {
	const user, pass = "robot", "t0ken-Exchange-Secret"
	tr := newTokenRegistry(t, "", "")
	// Push without auth while the registry is open, then require it.
	want := map[string]string{}
	for _, repo := range []string{"a", "b", "c"} {
		for _, tg := range []string{"1", "2"} {
			want[repo+":"+tg] = testregistry.Push(t, tr.host+"/"+repo+":"+tg, testregistry.Image(t, ""), pushAuth)
		}
	}
	p := faultproxy.New(t, tr.host)

	t.Run("anonymous token", func(t *testing.T) {
		testregistry.DockerConfig(t, nil)
		c, err := registry.New(fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Head(t.Context(), tag(t, p.Host+"/a:1"))
		if err != nil || d.Digest.String() != want["a:1"] {
			t.Fatalf("got %v, %v", d, err)
		}
	})
	tr.user, tr.pass = user, pass
	p.ResetCounts()

	t.Run("one token per repository", func(t *testing.T) {
		testregistry.DockerConfig(t, map[string][2]string{p.Host: {user, pass}})
		c, err := registry.New(fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range slices.Sorted(mapsKeys(want)) {
			d, err := c.Head(t.Context(), tag(t, p.Host+"/"+k))
			if err != nil {
				t.Fatal(err)
			}
			if d.Digest.String() != want[k] {
				t.Errorf("%s: %s, want %s", k, d.Digest, want[k])
			}
		}
		if n := p.Count(http.MethodGet, faultproxy.Ping); n != 1 {
			t.Errorf("pings = %d, want 1", n)
		}
		if n := p.Count(http.MethodGet, faultproxy.Token); n != 3 {
			t.Errorf("token exchanges = %d, want 3 (one per repository)", n)
		}
		if n := p.Count(http.MethodHead, faultproxy.Manifest); n != 6 {
			t.Errorf("HEADs = %d, want 6 (%v)", n, p.Counts())
		}
	})
	for _, oneScope := range []bool{false, true} {
		t.Run(fmt.Sprintf("prepared batches, one scope per token %v", oneScope), func(t *testing.T) {
			testregistry.DockerConfig(t, map[string][2]string{p.Host: {user, pass}})
			c, err := registry.New(fastRetry)
			if err != nil {
				t.Fatal(err)
			}
			tr.oneScope.Store(oneScope)
			defer tr.oneScope.Store(false)
			p.ResetCounts()
			var refs []name.Reference
			for _, repo := range []string{"a", "b", "c"} {
				refs = append(refs, tag(t, p.Host+"/"+repo+":1"), tag(t, p.Host+"/"+repo+":2"))
			}
			c.Prepare(refs)
			var wg sync.WaitGroup
			for _, r := range refs {
				wg.Go(func() {
					if _, err := c.Head(t.Context(), r); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			want := map[string]int{"GET ping": 1, "GET token": 1, "HEAD manifest": 6}
			if oneScope {
				want["GET token"] = 4 // the refused batch, then one per repository
			}
			if diff := cmp.Diff(want, p.Counts()); diff != "" {
				t.Errorf("requests (-want +got)\n%s", diff)
			}
		})
	}
	t.Run("expired token is renewed", func(t *testing.T) {
		testregistry.DockerConfig(t, map[string][2]string{p.Host: {user, pass}})
		c, err := registry.New(fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Head(t.Context(), tag(t, p.Host+"/a:1")); err != nil {
			t.Fatal(err)
		}
		p.ResetCounts()
		tr.gen.Add(1)
		d, err := c.Head(t.Context(), tag(t, p.Host+"/a:2"))
		if err != nil || d.Digest.String() != want["a:2"] {
			t.Fatalf("after expiry: %v, %v", d, err)
		}
		want := map[string]int{"GET token": 1, "HEAD manifest": 2}
		if diff := cmp.Diff(want, p.Counts()); diff != "" {
			t.Errorf("requests (-want +got)\n%s", diff)
		}
	})
	t.Run("rejected credentials", func(t *testing.T) {
		const wrong = "not-the-Right-secret"
		testregistry.DockerConfig(t, map[string][2]string{p.Host: {user, wrong}})
		c, err := registry.New(fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Head(t.Context(), tag(t, p.Host+"/a:1"))
		if !errors.Is(err, registry.ErrUnauthorized) {
			t.Fatalf("got %v, want ErrUnauthorized", err)
		}
		if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte(user+":"+wrong))) {
			t.Errorf("credentials leaked: %v", err)
		}
		t.Log(err)
	})
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// pushAuth: the registry accepts any credentials while tr.user is empty.
var pushAuth = remote.WithAuth(&authn.Basic{Username: "pusher", Password: "pusher"})
