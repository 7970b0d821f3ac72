package cli

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/lock"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/resolve"
)

func newReleaseCreateCmd(a *app, fl *releaseFlags) *cobra.Command {
	var (
		app       string
		fromLock  string
		lockPath  string
		images    []string
		annotate  []string
		platforms []string
	)
	cmd := &cobra.Command{
		Use:   "create --app NAME (--from-lock stet.lock | --image NAME=REF ...)",
		Short: "Record a release: the exact digests of an app's images",
		Long: `Create records a release of an app. Its images come from a lockfile
(--from-lock: every image entry, named by its repository's last path
component) and from --image NAME=REF flags (repeatable; an --image for the
same repository replaces the lock's entry). Tags are resolved to digests
now, once: the release never holds a tag without the digest it named. A
reference that already carries a digest is checked to exist.

The release also records the git commit of the repository and whether
tracked files had changed (when git is installed and this is a work tree),
the digest of stet.lock (--from-lock, or --lock, or the repository's
stet.lock when there is one), the app's previous release as its parent, who
created it and where (user, host and the CI run's variables such as
GITHUB_RUN_ID or CI_PIPELINE_ID), and --annotate KEY=VALUE pairs.

The ledger numbers the app's releases r1, r2, ...; the release's ID is the
sha256 of its canonical encoding.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !release.ValidName(app) {
				return usageErrorf("--app %q: want lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit", app)
			}
			if fromLock == "" && len(images) == 0 {
				return usageErrorf("name the images: --from-lock stet.lock or --image NAME=REF")
			}
			named, err := splitPairs("image", images)
			if err != nil {
				return err
			}
			notes, err := splitPairs("annotate", annotate)
			if err != nil {
				return err
			}
			fl.rf.platforms = platforms
			env, err := a.openRelease(cmd, fl, true)
			if err != nil {
				return err
			}
			defer env.close()
			return env.create(cmd, createOptions{app: app, fromLock: fromLock, lockPath: lockPath, images: named, annotations: notes})
		},
	}
	f := cmd.Flags()
	f.StringVar(&app, "app", "", "the app released (required)")
	f.StringVar(&fromLock, "from-lock", "", "take the images of this stet.lock")
	f.StringVar(&lockPath, "lock", "", "record the digest of this lock file (default: --from-lock, or stet.lock at the repository root when present)")
	f.StringArrayVar(&images, "image", nil, "an image of the release, NAME=REF (repeatable): api=registry.example.com/api:1.4")
	f.StringArrayVar(&annotate, "annotate", nil, "a free annotation, KEY=VALUE (repeatable)")
	f.StringSliceVar(&platforms, "platform", nil, "require these platforms (os/arch[/variant], comma-separated) in every image")
	cmd.MarkFlagRequired("app")
	return cmd
}

type createOptions struct {
	app, fromLock, lockPath string
	images, annotations     map[string]string
}

// wanted is one image to record: a name and the reference to resolve.
type wanted struct {
	name      string
	ref       ref.ImageRef
	text      string
	platforms []string
	// flag is true for an --image, false for a lock entry.
	flag bool
}

func (e *releaseEnv) create(cmd *cobra.Command, o createOptions) error {
	ctx := cmd.Context()
	var want []wanted
	var lockDigest string

	lockFileName := o.lockPath
	if o.fromLock != "" {
		lockFileName = o.fromLock
		lk, data, err := readLock(o.fromLock)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return usageErrorf("--from-lock: %s does not exist", o.fromLock)
			}
			return err
		}
		lockDigest = fmt.Sprintf("sha256:%x", sha256.Sum256(data))
		want = append(want, fromLockEntries(lk)...)
	} else {
		if lockFileName == "" {
			lockFileName = filepath.Join(repoRoot(e.c), lock.FileName)
		}
		_, data, err := readLock(lockFileName)
		switch {
		case err == nil:
			lockDigest = fmt.Sprintf("sha256:%x", sha256.Sum256(data))
		case errors.Is(err, fs.ErrNotExist) && o.lockPath == "":
		case errors.Is(err, fs.ErrNotExist):
			return usageErrorf("--lock: %s does not exist", o.lockPath)
		default:
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o.images)) {
		p, err := ref.ParseImage(o.images[k])
		if err != nil {
			return usageErrorf("--image %s=%s: %v", k, o.images[k], err)
		}
		// An --image replaces the lock's entry of its repository.
		want = slices.DeleteFunc(want, func(w wanted) bool { return w.ref.Name() == p.Name() && !w.flag })
		want = append(want, wanted{name: k, ref: p, text: o.images[k], flag: true})
	}
	seen := map[string]bool{}
	for _, w := range want {
		if seen[w.name] {
			return usageErrorf("image name %s used twice", w.name)
		}
		seen[w.name] = true
	}

	res, _, err := e.registry()
	if err != nil {
		return err
	}
	images, err := resolveImages(cmd, res, want)
	if err != nil {
		return err
	}

	r := release.Release{App: o.app, Images: images, LockDigest: lockDigest, Creator: creator(), Annotations: o.annotations}
	if len(r.Annotations) == 0 {
		r.Annotations = nil
	}
	r.Git = gitState(ctx, repoRoot(e.c))
	prev, err := e.ledger.ListReleases(ctx, o.app, release.ListOptions{Limit: 1})
	if err != nil {
		return ledgerErr(err)
	}
	if len(prev) > 0 {
		r.Parent = prev[0].ID
		if maps.Equal(prev[0].Digests(), r.Digests()) {
			fmt.Fprintf(e.a.stderr, "stet: note: the images are the same digests as %s\n", prev[0].Label())
		}
	}
	if ctx.Err() != nil {
		return withCode(ExitFailure, errors.New("interrupted; no release was recorded"))
	}
	r, err = e.ledger.PutRelease(ctx, r)
	if err != nil {
		return ledgerErr(fmt.Errorf("recording the release: %w", err))
	}
	out := cmd.OutOrStdout()
	if e.fl.format == "json" {
		return writeJSON(out, r)
	}
	fmt.Fprintf(out, "%s recorded: %s\n", r.Label(), r.ID)
	printImages(out, r)
	return nil
}

// fromLockEntries names each image entry of a lock by its repository's
// last path component (nginx, api), or by its familiar name when two
// repositories share that component, with ":tag" when one repository is
// locked at several tags.
func fromLockEntries(lk *lock.Lock) []wanted {
	var out []wanted
	byLast := map[string]map[string]bool{}
	tags := map[string]int{}
	for _, e := range lk.References {
		if e.Kind != ref.Image {
			continue
		}
		last := e.Name[strings.LastIndexByte(e.Name, '/')+1:]
		if byLast[last] == nil {
			byLast[last] = map[string]bool{}
		}
		byLast[last][e.Name] = true
		tags[e.Name]++
	}
	for _, e := range lk.References {
		if e.Kind != ref.Image {
			continue
		}
		name := e.Name[strings.LastIndexByte(e.Name, '/')+1:]
		if len(byLast[name]) > 1 {
			name = ref.FamiliarName(e.Name)
		}
		if tags[e.Name] > 1 && e.Tag != "" {
			name += ":" + e.Tag
		}
		p, err := ref.ParseImage(e.String())
		if err != nil {
			continue
		}
		out = append(out, wanted{name: name, ref: p, text: e.String(), platforms: e.Platforms})
	}
	return out
}

// resolveImages resolves each wanted image once, in parallel: a tag to its
// digest, a digest to proof that it exists. A reference that does not
// exist is an input error (2); a registry that cannot answer, 3.
func resolveImages(cmd *cobra.Command, res *resolve.Resolver, want []wanted) (map[string]release.Image, error) {
	ctx := cmd.Context()
	results := make([]*resolve.Result, len(want))
	var wg sync.WaitGroup
	for i, w := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w.ref.Digest != "" {
				results[i] = res.Describe(ctx, w.ref.Name(), w.ref.Digest)
			} else {
				results[i] = res.Image(ctx, w.ref.Name(), w.ref.TagOrLatest())
			}
		}()
	}
	wg.Wait()
	images := map[string]release.Image{}
	var inputErrs, errs []error
	for i, w := range want {
		rs := results[i]
		if rs.Err != nil {
			what := w.text
			if w.flag {
				what = w.name + "=" + w.text
			}
			if errors.Is(rs.Err, registry.ErrNotFound) || errors.Is(rs.Err, resolve.ErrPlatformMissing) {
				inputErrs = append(inputErrs, fmt.Errorf("image %s: %w", what, rs.Err))
			} else {
				errs = append(errs, fmt.Errorf("image %s: %w", what, rs.Err))
			}
			continue
		}
		digest := rs.Digest
		if w.ref.Digest != "" {
			digest = w.ref.Digest
		}
		plats := rs.Platforms
		if len(plats) == 0 {
			plats = w.platforms
		}
		im, err := release.NewImage(w.ref.String(), digest, rs.MediaType, plats)
		if err != nil {
			inputErrs = append(inputErrs, err)
			continue
		}
		images[w.name] = im
	}
	switch {
	case ctx.Err() != nil:
		return nil, withCode(ExitFailure, errors.New("interrupted; no release was recorded"))
	case len(errs) > 0:
		return nil, withCode(ExitFailure, fmt.Errorf("%w\nno release was recorded", errors.Join(append(errs, inputErrs...)...)))
	case len(inputErrs) > 0:
		return nil, withCode(ExitUsage, fmt.Errorf("%w\nno release was recorded", errors.Join(inputErrs...)))
	}
	return images, nil
}

// printImages lists a release's images, one a line: name, then the
// pinned reference a deployment uses.
func printImages(w io.Writer, r release.Release) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range r.Names() {
		fmt.Fprintf(tw, "  %s\t%s\n", k, r.Images[k].Pinned())
	}
	tw.Flush()
}
