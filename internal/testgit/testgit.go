// Package testgit serves git repositories to tests the way GitHub serves
// actions: bare repositories over smart HTTP (git http-backend) on
// 127.0.0.1, so that tag and branch resolution runs against real git and
// no test reaches the internet.
package testgit

import (
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Server serves the bare repositories under root (owner/repo.git, the
// layout github.com uses) until the test ends and returns the base URL.
// A machine without git skips the test: nothing else can stand in for it.
func Server(t testing.TB, root string) string {
	t.Helper()
	s := httptest.NewServer(backend(t, root))
	t.Cleanup(s.Close)
	return s.URL
}

// PrivateServer is Server for private repositories: like GitHub, it answers
// 401 to a request without HTTP basic credentials whose password is token.
func PrivateServer(t testing.TB, root, token string) string {
	t.Helper()
	h := backend(t, root)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pass, ok := r.BasicAuth(); !ok || pass != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func backend(t testing.TB, root string) http.Handler {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	return &cgi.Handler{
		Path: git, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
		// Requests for repositories a test deliberately lacks make
		// http-backend complain; the HTTP status is what tests check.
		Stderr: io.Discard,
	}
}

// Run runs git in dir with a fixed author and committer and without the
// user's or the system's configuration (signing, hooks, default branch),
// and returns its trimmed output. A failure fails the test.
func Run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}
