package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/oci"
	"github.com/stet-dev/stet/release/sqlite"
	"github.com/stet-dev/stet/resolve"
)

// releaseFlags are shared by every release subcommand.
type releaseFlags struct {
	ledger string
	format string
	rf     resolveFlags
}

func newReleaseCmd(a *app) *cobra.Command {
	var rfl releaseFlags
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Record releases as exact digests; promote, diff and roll back without rebuilding",
		Long: `A release is the exact set of image digests an app ships, recorded once:
tags are resolved when the release is created and never again. Promoting a
release to an environment and rolling one back are events in that
environment's history, a hash chain that cannot be edited unnoticed. A
rollback redeploys the digests of an earlier release and never builds
anything; with --render it rewrites Kubernetes, compose, Kustomize and Helm
values files to those digests.

The ledger is, in order: --ledger, .stet.yaml "ledger:", or
sqlite:<repository root>/.stet/ledger.db. Teams share one in a registry:
--ledger oci://registry.example.com/team/ledger (credentials from the docker
config, mirrors and insecure hosts from .stet.yaml as for every registry).

Releases are named r42 (within their app), by a prefix of their ID (at
least 4 hex digits), or by an environment's name for what is deployed there.

Exit codes: 0 success, 1 differences or a verification failure (a digest
gone, a broken history), 2 usage or input error (an unknown release), 3
runtime failure (registry or ledger unreachable).`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&rfl.ledger, "ledger", "", "ledger location, sqlite:PATH or oci://registry/repository (default: .stet.yaml ledger, or sqlite:.stet/ledger.db at the repository root)")
	pf.StringVar(&rfl.format, "format", "text", "output format: text or json")
	pf.StringArrayVar(&rfl.rf.mirrors, "mirror", nil, "reach a registry through a mirror, HOST=MIRROR[/prefix] (repeatable; adds to .stet.yaml registries.mirrors)")
	pf.IntVar(&rfl.rf.concurrency, "concurrency", 0, "requests in flight per registry (default 32, or .stet.yaml registries.concurrency)")
	cmd.AddCommand(
		newReleaseCreateCmd(a, &rfl),
		newReleaseListCmd(a, &rfl),
		newReleaseShowCmd(a, &rfl),
		newReleasePromoteCmd(a, &rfl),
		newReleaseHistoryCmd(a, &rfl),
		newReleaseRollbackCmd(a, &rfl),
		newReleaseRenderCmd(a, &rfl),
		newReleaseDiffCmd(a, &rfl),
		newReleaseVerifyCmd(a, &rfl),
		newReleaseSyncCmd(a, &rfl),
	)
	return cmd
}

// releaseEnv is what a release subcommand works with: settings, the ledger
// and, opened on first use, the registry client and resolver.
type releaseEnv struct {
	a        *app
	c        *config.Config
	fl       *releaseFlags
	ledger   release.Ledger
	location string

	once   sync.Once
	res    *resolve.Resolver
	client *registry.Client
	err    error
}

// openRelease loads the settings, checks --format and opens the ledger.
// Only create makes a SQLite ledger that is missing: the other commands
// need releases that would be in it.
func (a *app) openRelease(cmd *cobra.Command, fl *releaseFlags, write bool) (*releaseEnv, error) {
	if err := checkFormat(fl.format); err != nil {
		return nil, err
	}
	c, err := a.loadConfig(nil)
	if err != nil {
		return nil, err
	}
	env := &releaseEnv{a: a, c: c, fl: fl}
	loc := ledgerLocation(c, fl.ledger)
	if !write {
		if err := ledgerExists(loc); err != nil {
			return nil, err
		}
	}
	l, err := env.openLedger(cmd.Context(), loc)
	if err != nil {
		return nil, err
	}
	env.ledger, env.location = l, loc
	return env, nil
}

// checkEnvName refuses an environment name the ledger could not store
// before anything is opened, naming it as the user wrote it (what: the
// flag or argument).
func checkEnvName(what, name string) error {
	if !release.ValidName(name) {
		return usageErrorf("%s %q: want lowercase letters, digits, '.', '_' or '-'", what, name)
	}
	return nil
}

// checkLimit refuses a negative -n; zero means no limit.
func checkLimit(n int) error {
	if n < 0 {
		return usageErrorf("-n must not be negative")
	}
	return nil
}

// readLedger opens the ledger for a command that only reads what is in it
// (a missing SQLite ledger is an error, not created), runs fn with the
// command's context, and closes the ledger whatever fn returns.
func (a *app) readLedger(cmd *cobra.Command, fl *releaseFlags, fn func(ctx context.Context, env *releaseEnv) error) error {
	env, err := a.openRelease(cmd, fl, false)
	if err != nil {
		return err
	}
	defer env.close()
	if strings.HasPrefix(env.location, oci.Scheme) {
		// A registry answers an unknown repository with no tags, like an
		// empty ledger: a mistyped --ledger must not read as "nothing
		// deployed".
		apps, err := env.ledger.Apps(cmd.Context())
		if err != nil {
			return ledgerErr(err)
		}
		if len(apps) == 0 {
			return usageErrorf("no ledger at %s: it holds no release, so nothing was deployed from it (record one with stet release create, or check --ledger)", env.location)
		}
	}
	return fn(cmd.Context(), env)
}

func (e *releaseEnv) close() {
	if e.ledger != nil {
		e.ledger.Close()
	}
}

// ledgerExists fails for a SQLite ledger whose file does not exist, which
// opening would create.
func ledgerExists(loc string) error {
	if p, ok := strings.CutPrefix(loc, sqlite.Scheme); ok {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return usageErrorf("no ledger at %s: record a release first (stet release create), or name the ledger with --ledger", relPath(p))
		}
	}
	return nil
}

// ledgerLocation is --ledger, else .stet.yaml's ledger (a relative sqlite
// path is relative to the settings file), else the default database at
// the repository root.
func ledgerLocation(c *config.Config, flag string) string {
	if flag != "" {
		return flag
	}
	if c.Ledger != "" {
		if p, ok := strings.CutPrefix(c.Ledger, sqlite.Scheme); ok && !filepath.IsAbs(p) && c.Dir != "" {
			return sqlite.Scheme + filepath.Join(c.Dir, p)
		}
		return c.Ledger
	}
	return sqlite.Scheme + filepath.Join(repoRoot(c), sqlite.DefaultPath)
}

// openLedger opens a ledger location. An OCI ledger goes through the
// shared registry client: mirrors, insecure hosts, retries and bounds.
func (e *releaseEnv) openLedger(ctx context.Context, loc string) (release.Ledger, error) {
	switch {
	case strings.HasPrefix(loc, sqlite.Scheme):
		p := strings.TrimPrefix(loc, sqlite.Scheme)
		fresh := !fileExists(p)
		l, err := sqlite.Open(ctx, loc)
		if err != nil {
			return nil, withCode(ExitFailure, err)
		}
		if fresh && filepath.Base(filepath.Dir(p)) == filepath.Dir(sqlite.DefaultPath) {
			keepOutOfGit(filepath.Dir(p))
		}
		return l, nil
	case strings.HasPrefix(loc, oci.Scheme):
		_, client, err := e.registry()
		if err != nil {
			return nil, err
		}
		l, err := oci.Open(ctx, loc, oci.WithRegistry(client), oci.WithInsecure(e.c.Registries.Insecure...))
		if err != nil {
			return nil, withCode(ExitUsage, err)
		}
		return l, nil
	}
	return nil, usageErrorf("ledger %q: want sqlite:PATH or oci://registry/repository", loc)
}

// registry returns the run's resolver and client, built once.
func (e *releaseEnv) registry() (*resolve.Resolver, *registry.Client, error) {
	e.once.Do(func() {
		e.res, e.client, e.err = e.a.newResolver(e.c, &e.fl.rf, resolve.WithPlatforms())
	})
	return e.res, e.client, e.err
}

// find resolves a release argument: r42 (within app, or the only app), an
// ID prefix, or an environment's name for the release deployed there.
func (e *releaseEnv) find(ctx context.Context, app, arg string) (release.Release, error) {
	sel, selErr := release.ParseSelector(arg)
	if selErr == nil {
		if sel.Number > 0 && app == "" {
			apps, err := e.ledger.Apps(ctx)
			if err != nil {
				return release.Release{}, ledgerErr(err)
			}
			switch len(apps) {
			case 0:
				return release.Release{}, usageErrorf("release %s: the ledger %s holds no releases", arg, e.location)
			case 1:
				app = apps[0]
			default:
				return release.Release{}, usageErrorf("release %s: the ledger holds several apps (%s); name one with --app", arg, strings.Join(apps, ", "))
			}
		}
		r, err := e.ledger.GetRelease(ctx, app, arg)
		if err == nil || !errors.Is(err, release.ErrNotFound) || !release.ValidName(arg) {
			return r, ledgerErr(err)
		}
	}
	if release.ValidName(arg) {
		r, err := e.ledger.Current(ctx, arg)
		if err == nil {
			if app != "" && r.App != app {
				return release.Release{}, usageErrorf("%s runs %s, not a release of %s", arg, r.Label(), app)
			}
			return r, nil
		}
		if errors.Is(err, release.ErrNotFound) {
			if selErr == nil {
				return release.Release{}, usageErrorf("no release %s and no environment %s in %s", arg, arg, e.location)
			}
			return release.Release{}, usageErrorf("%q is neither a release (r42, an ID prefix) nor an environment with deployments", arg)
		}
		return release.Release{}, ledgerErr(err)
	}
	return release.Release{}, withCode(ExitUsage, selErr)
}

// ledgerErr gives ledger errors their exit codes: an unknown or ambiguous
// release is the user's input (2), a history that does not verify a
// finding (1), the rest runtime failures (3).
func ledgerErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, release.ErrNotFound), errors.Is(err, release.ErrAmbiguous), errors.Is(err, release.ErrInvalid):
		return withCode(ExitUsage, err)
	case errors.Is(err, release.ErrBroken):
		return withCode(ExitFindings, err)
	}
	return withCode(ExitFailure, err)
}

// creator is who runs this command, and where.
func creator() release.Creator {
	host, _ := os.Hostname()
	return release.CreatorFromEnv(os.Getenv, host)
}

// missingImage is a release image whose digest its registry no longer has.
type missingImage struct {
	Release string `json:"release,omitempty"`
	Name    string `json:"name"`
	Image   string `json:"image"`
}

// checkDigests asks the registries (one HEAD per unique digest, in
// parallel) whether every image of the releases still exists. It returns
// the missing ones; err is set when a registry could not be asked.
func (e *releaseEnv) checkDigests(ctx context.Context, rels ...release.Release) ([]missingImage, error) {
	res, _, err := e.registry()
	if err != nil {
		return nil, err
	}
	type item struct{ rel, name, repo, digest, pinned string }
	var items []item
	for _, r := range rels {
		for _, k := range r.Names() {
			im := r.Images[k]
			p, err := ref.ParseImage(im.Reference)
			if err != nil {
				return nil, withCode(ExitFailure, fmt.Errorf("%s: image %s: %w", r.Label(), k, err))
			}
			items = append(items, item{r.Label(), k, p.Name(), im.Digest, im.Pinned()})
		}
	}
	type answer struct {
		ok  bool
		err error
	}
	answers := make([]answer, len(items))
	seen := map[string]int{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, it := range items {
		k := it.repo + "@" + it.digest
		if _, ok := seen[k]; ok {
			continue
		}
		seen[k] = i
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ok, err := res.Exists(ctx, it.repo, it.digest)
			answers[i] = answer{ok, err}
		}()
	}
	wg.Wait()
	var missing []missingImage
	var errs []error
	for _, it := range items {
		an := answers[seen[it.repo+"@"+it.digest]]
		switch {
		case an.err != nil:
			errs = append(errs, an.err)
		case !an.ok:
			missing = append(missing, missingImage{Release: it.rel, Name: it.name, Image: it.pinned})
		}
	}
	if len(errs) > 0 {
		if ctx.Err() != nil {
			return missing, withCode(ExitFailure, errors.New("interrupted"))
		}
		return missing, withCode(ExitFailure, errors.Join(dedupe(errs)...))
	}
	return missing, nil
}

// gitState reads the commit and whether tracked files changed, with the
// git command in dir. Untracked files do not count: the ledger database
// itself usually is one. nil when dir is not in a work tree with commits
// or git is not installed.
func gitState(ctx context.Context, dir string) *release.Git {
	out, err := gitCmd(ctx, dir, "rev-parse", "--verify", "-q", "HEAD^{commit}")
	if err != nil {
		return nil
	}
	g := &release.Git{Commit: strings.TrimSpace(out)}
	st, err := gitCmd(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return nil
	}
	g.Dirty = strings.TrimSpace(st) != ""
	return g
}

func gitCmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C")
	out, err := cmd.Output()
	return string(out), err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// shortDigest is sha256: and 12 hex digits, as people quote digests.
func shortDigest(d string) string {
	if strings.HasPrefix(d, "sha256:") && len(d) > 19 {
		return d[:19]
	}
	return d
}

// deployedTo maps each release ID to the environments running it now,
// read from each environment's newest event once release.VerifyHead has
// checked it. An environment whose head does not verify is left out and
// named in broken (errors matching release.ErrBroken), so that a release
// can still be shown, with the break reported, while no tampered history
// says where it runs.
func deployedTo(ctx context.Context, l release.Ledger) (deployed map[string][]string, broken error, err error) {
	envs, err := l.Envs(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := map[string][]string{}
	var errs []error
	for _, env := range envs {
		h, err := l.History(ctx, env, release.ListOptions{Limit: 2})
		if err == nil {
			err = release.VerifyHead(env, h)
		}
		if errors.Is(err, release.ErrBroken) || errors.Is(err, release.ErrInvalid) {
			errs = append(errs, err)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if len(h) > 0 {
			out[h[0].Release] = append(out[h[0].Release], env)
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out, errors.Join(errs...), nil
}

// brokenHistories is the error of a command that printed its result but
// could not tell, for some environments, what runs there.
func brokenHistories(broken error) error {
	if broken == nil {
		return nil
	}
	return withCode(ExitFindings, fmt.Errorf("%w\nthe environments above are left out of \"deployed to\"; run stet release verify", broken))
}

// splitPairs parses repeated k=v flags.
func splitPairs(flag string, vals []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--%s %q: want KEY=VALUE", flag, v)
		}
		if _, dup := out[k]; dup {
			return nil, usageErrorf("--%s %s given twice", flag, k)
		}
		out[k] = val
	}
	return out, nil
}

// keepOutOfGit writes a .gitignore that ignores everything into dir (the
// .stet directory of a new local ledger), so the ledger stays local state
// without touching the repository's own .gitignore. An existing one is
// left alone; a failure only costs a line in git status.
func keepOutOfGit(dir string) {
	p := filepath.Join(dir, ".gitignore")
	if _, err := os.Lstat(p); err == nil {
		return
	}
	_ = os.WriteFile(p, []byte("# Written by stet: the release ledger is local state, kept out of git.\n*\n"), 0o644)
}
