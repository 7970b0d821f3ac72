package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/imagediff"
	"github.com/stet-dev/stet/inventory"
)

// imageFlags are the flags of the verbs that read images.
type imageFlags struct {
	platform    string
	mirrors     []string
	concurrency int
	noCache     bool
	base        string
}

func addImageFlags(cmd *cobra.Command, f *imageFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.platform, "platform", "", "platform to pick from a multi-platform image, os/arch[/variant] (default linux/amd64)")
	fl.StringArrayVar(&f.mirrors, "mirror", nil, "pull a registry through a mirror, HOST=MIRROR[/prefix] (repeatable; adds to .stet.yaml registries.mirrors)")
	fl.IntVar(&f.concurrency, "concurrency", 0, "requests in flight per registry (default 32, or .stet.yaml registries.concurrency)")
	fl.BoolVar(&f.noCache, "no-cache", false, "read every layer, ignoring and not updating the layer cache")
	fl.StringVar(&f.base, "base", "", "base image: layers shared with it are marked as the base image's (default: the image's base annotations)")
}

// imageEnv is what opening and reading images needs.
type imageEnv struct {
	open image.Options
	inv  inventory.Options
	stop func()
}

// imageEnv builds registry access, the layer cache and progress reporting.
func (a *app) imageEnv(f *imageFlags) (*imageEnv, error) {
	c, err := a.loadConfig(nil)
	if err != nil {
		return nil, err
	}
	_, client, err := a.newResolver(c, &resolveFlags{mirrors: f.mirrors, concurrency: f.concurrency})
	if err != nil {
		return nil, err
	}
	env := &imageEnv{
		open: image.Options{Platform: f.platform, Remote: client.Remote},
		inv:  inventory.Options{Logger: a.logger},
		stop: func() {},
	}
	if !f.noCache {
		dir, err := inventory.DefaultCacheDir()
		if err != nil {
			a.logger.Debug("no layer cache", "err", err)
		} else {
			env.inv.Cache = inventory.NewCache(dir)
		}
	}
	if isTerminal(a.stderr) {
		p := &progress{w: a.stderr}
		env.inv.Progress = p.update
		env.stop = p.done
	}
	if cache := env.inv.Cache; cache != nil {
		done := env.stop
		env.stop = func() {
			done()
			// Keep the cache bounded; a failure only costs disk.
			if n, err := cache.Prune(inventory.DefaultCacheLimit); err != nil || n > 0 {
				a.logger.Debug("pruned layer cache", "removed", n, "err", err)
			}
		}
	}
	env.stop = sync.OnceFunc(env.stop) // callers stop early and defer it too
	return env, nil
}

// openImage opens an image argument, classifying failures: a bad argument or
// a local file that is not an image is a usage or input error (2), a
// registry that cannot be reached or refuses is a runtime failure (3).
func openImage(ctx context.Context, arg string, o image.Options) (*image.Image, error) {
	im, err := image.Open(ctx, arg, o)
	if err != nil {
		return nil, classifyImageErr(arg, err)
	}
	return im, nil
}

func classifyImageErr(arg string, err error) error {
	kind, _ := image.ParseSource(arg)
	var perr *name.ErrBadName
	switch {
	case errors.Is(err, image.ErrNoPlatform), errors.As(err, &perr), errors.Is(err, os.ErrNotExist):
		return withCode(ExitUsage, err)
	case kind != image.SourceRegistry && !errors.Is(err, context.Canceled):
		return withCode(ExitUsage, err)
	}
	return withCode(ExitFailure, err)
}

// baseLayers is checkedBaseLayers with a scanner of its own, without the
// layer cache.
func (a *app) baseLayers(ctx context.Context, im *image.Image, base string, o image.Options) (int, error) {
	return a.checkedBaseLayers(ctx, inventory.NewScanner(inventory.Options{Logger: a.logger}), im, base, o)
}

// checkedBaseLayers finds how many bottom layers of im are its base
// image's: from --base, or from the base annotations when the base can be
// fetched. The layers are compared by content, checked with s (reading
// layers that are not known to hold the DiffID their config claims).
func (a *app) checkedBaseLayers(ctx context.Context, s *inventory.Scanner, im *image.Image, base string, o image.Options) (int, error) {
	if base != "" {
		o.Platform = im.Platform
		b, err := openImage(ctx, base, o)
		if err != nil {
			return 0, fmt.Errorf("--base: %w", err)
		}
		n, err := imagediff.CheckBaseLayers(ctx, s, im, b)
		if err != nil {
			return 0, withCode(ExitFailure, fmt.Errorf("--base %s: %w", base, err))
		}
		return n, nil
	}
	bn, bd := im.BaseName(), im.BaseDigest()
	if bn == "" || bd == "" {
		return 0, nil
	}
	ref := bn
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	o.Platform = im.Platform
	b, err := image.Open(ctx, ref+"@"+bd, o)
	if err != nil {
		a.logger.Warn("base image from annotations not available", "image", im.Name, "base", ref+"@"+bd, "err", err)
		return 0, nil
	}
	// The annotation may name the base's index; Open picked the platform.
	n, err := imagediff.CheckBaseLayers(ctx, s, im, b)
	if err != nil {
		return 0, withCode(ExitFailure, fmt.Errorf("base image %s@%s of %s: %w", ref, bd, im.Name, err))
	}
	return n, nil
}

func newInventoryCmd(a *app) *cobra.Command {
	var (
		f      imageFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "inventory IMAGE",
		Short: "List the OS packages and config of an image",
		Long: `Inventory reads an image's package databases (apk, dpkg including distroless
status.d, rpm's SQLite database) and os-release, and prints every installed
package with the layer and build step that introduced it, with the image's
config and layers.

IMAGE is registry/name:tag[@digest], oci:DIR[:tag] (an OCI image layout) or
docker-archive:FILE (a docker save tarball). Layers are streamed in memory
and checked against their digests; results are cached per layer content
(its DiffID) under the user cache directory (--no-cache to bypass).

Exit status 0 on success, 2 for a bad argument, 3 when the image could not
be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usageErrorf("--format %q: want text or json", format)
			}
			ctx := cmd.Context()
			env, err := a.imageEnv(&f)
			if err != nil {
				return err
			}
			im, err := openImage(ctx, args[0], env.open)
			if err != nil {
				return err
			}
			scanner := inventory.NewScanner(env.inv)
			baseLayers, err := a.checkedBaseLayers(ctx, scanner, im, f.base, env.open)
			if err != nil {
				return err
			}
			inv, err := scanner.Take(ctx, im, baseLayers)
			env.stop()
			if err != nil {
				return withCode(ExitFailure, fmt.Errorf("inventory of %s: %w", args[0], err))
			}
			for _, w := range inv.Warnings {
				fmt.Fprintf(a.stderr, "stet: warning: %s\n", w)
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(inv)
			}
			return renderInventory(cmd.OutOrStdout(), inv)
		},
	}
	addImageFlags(cmd, &f)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func renderInventory(w io.Writer, inv *inventory.Inventory) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  %s\n", inv.Image, inv.Digest, inv.Platform)
	if inv.OS != nil {
		name := inv.OS.PrettyName
		if name == "" {
			name = inv.OS.Name
		}
		fmt.Fprintf(&b, "OS: %s (%s %s)\n", name, inv.OS.ID, inv.OS.VersionID)
	}
	if inv.BaseName != "" || inv.BaseDigest != "" {
		fmt.Fprintf(&b, "Base: %s %s\n", inv.BaseName, inv.BaseDigest)
	}
	c := inv.Config
	fmt.Fprintf(&b, "\nConfig\n")
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-11s %s\n", k, v)
		}
	}
	line("entrypoint", quoted(c.Entrypoint))
	line("cmd", quoted(c.Cmd))
	line("user", c.User)
	line("workdir", c.WorkingDir)
	line("ports", strings.Join(c.ExposedPorts, " "))
	line("volumes", strings.Join(c.Volumes, " "))
	line("stopsignal", c.StopSignal)
	for _, e := range c.Env {
		line("env", e)
	}
	keys := make([]string, 0, len(c.Labels))
	for k := range c.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		line("label", k+"="+c.Labels[k])
	}
	fmt.Fprintf(&b, "\nLayers (%d)\n", len(inv.Layers))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, l := range inv.Layers {
		base := ""
		if l.Base {
			base = "base"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", l.Index, image.ShortDigest(l.Digest), imagediff.StoredSize(l.Size, l.Compression), base, image.StepLine(l.CreatedBy, 70))
	}
	tw.Flush()
	for _, db := range inv.Databases {
		fmt.Fprintf(&b, "\nDatabase /%s (%s, layer %d): %d packages\n", db.Path, db.Type, db.Layer, db.Packages)
	}
	fmt.Fprintf(&b, "\nPackages (%d)\n", len(inv.Packages))
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, p := range inv.Packages {
		where := fmt.Sprintf("layer %d", p.Layer.Index)
		if p.Layer.Base {
			where = "base, " + where
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Arch, p.Type, where)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

func quoted(l []string) string {
	if len(l) == 0 {
		return ""
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// progress draws one status line on a terminal's stderr: the bytes read of
// each layer being streamed.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	cur   map[string][2]int64
	drawn bool
}

func (p *progress) update(l image.Layer, read, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		p.cur = map[string][2]int64{}
	}
	if total > 0 && read >= total {
		delete(p.cur, l.Digest)
	} else {
		p.cur[l.Digest] = [2]int64{read, total}
	}
	keys := make([]string, 0, len(p.cur))
	for k := range p.cur {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := p.cur[k]
		s := fmt.Sprintf("%s %s", image.ShortDigest(k), imagediff.HumanBytes(v[0]))
		if v[1] > 0 {
			s += "/" + imagediff.HumanBytes(v[1])
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		if p.drawn {
			fmt.Fprint(p.w, "\r\x1b[K")
			p.drawn = false
		}
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[Kreading %s", strings.Join(parts, ", "))
	p.drawn = true
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
