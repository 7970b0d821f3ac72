package ref

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	ownerRE  = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$`)
	repoRE   = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// ActionRef is a parsed GitHub Action reference: owner/repo[/path]@ref.
type ActionRef struct {
	Owner, Repo string
	// Path inside the repository, for actions such as github/codeql-action/init
	// and reusable workflows (.github/workflows/x.yml).
	Path string
	// Ref as written after '@': a tag, a branch or a commit SHA.
	Ref string
}

// ParseAction parses owner/repo[/path]@ref. Local actions (./path) and
// docker:// references are not actions and return an error.
func ParseAction(s string) (ActionRef, error) {
	full, at, ok := strings.Cut(s, "@")
	if !ok || at == "" {
		return ActionRef{}, fmt.Errorf("action %q: missing @ref", s)
	}
	parts := strings.SplitN(full, "/", 3)
	if len(parts) < 2 || !ownerRE.MatchString(parts[0]) || !repoRE.MatchString(parts[1]) || parts[1] == "." || parts[1] == ".." {
		return ActionRef{}, fmt.Errorf("action %q: want owner/repo[/path]@ref", s)
	}
	a := ActionRef{Owner: parts[0], Repo: parts[1], Ref: at}
	if len(parts) == 3 {
		a.Path = parts[2]
		if a.Path == "" {
			return ActionRef{}, fmt.Errorf("action %q: empty path", s)
		}
	}
	if strings.ContainsAny(at, " \t") {
		return ActionRef{}, fmt.Errorf("action %q: invalid ref", s)
	}
	return a, nil
}

// Name is owner/repo or owner/repo/path.
func (a ActionRef) Name() string {
	n := a.Owner + "/" + a.Repo
	if a.Path != "" {
		n += "/" + a.Path
	}
	return n
}

// Pinned reports whether Ref is a full 40-hex commit SHA.
func (a ActionRef) Pinned() bool { return IsCommit(a.Ref) }

// IsCommit reports whether s is a full, lowercase 40-hex git commit SHA.
func IsCommit(s string) bool { return commitRE.MatchString(s) }

// ActionRepo is the owner/repo part of an action name, the git repository
// that holds it: github/codeql-action/init → github/codeql-action.
func ActionRepo(name string) string {
	parts := strings.SplitN(name, "/", 3)
	if len(parts) < 2 {
		return name
	}
	return parts[0] + "/" + parts[1]
}
