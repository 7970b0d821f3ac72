package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/imagediff"
	"github.com/stet-dev/stet/inventory"
)

func newDiffCmd(a *app) *cobra.Command {
	var (
		f            imageFlags
		format       string
		allPlatforms bool
		files        bool
	)
	cmd := &cobra.Command{
		Use:   "diff IMAGE_A IMAGE_B",
		Short: "Explain what changed between two images",
		Long: `Diff compares two images and prints a verdict first ("same digest", or "1
package upgraded, config changed, 1 of 3 layers differ"), then the OS
packages added, removed, upgraded and downgraded (ordered by apk, Debian or
RPM rules), each with the layer and build step that brought it and whether
that layer is the base image's; then config changes (env, entrypoint, cmd,
user, ports, labels) and the layers shared and changed. --files adds files
added, removed and changed (size, mode, owner, content).

Images are registry/name:tag[@digest], oci:DIR[:tag] or docker-archive:FILE,
in any pairing: layers are compared by content (their DiffID, the digest of
the uncompressed layer), so an image and its docker save archive are
"identical content" even though their digests differ. A DiffID is trusted
only once checked: layers both images store as the same blob are not read
(unless a package database lies in them), and a layer stored differently is
read to check that its content is what its config says; one that is not is
an error, never a result. Results are cached per checked layer (--no-cache
to bypass).

--all-platforms diffs every platform of two multi-platform images and names
the platforms only one of them has (which makes them differ).

Exit status 0 when the images are identical (same digest, same content, or
no difference in packages, config or layers), 1 when they differ, 2 for a bad argument, 3 when an image could not be read
or does not match its digests.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case imagediff.FormatText, imagediff.FormatJSON, imagediff.FormatMarkdown:
			default:
				return usageErrorf("--format %q: want text, json or markdown", format)
			}
			if allPlatforms && f.platform != "" {
				return usageErrorf("--platform and --all-platforms exclude each other")
			}
			ctx := cmd.Context()
			env, err := a.imageEnv(&f)
			if err != nil {
				return err
			}
			defer env.stop()
			type pair struct{ a, b *image.Image }
			var (
				pairs        []pair
				onlyA, onlyB []string
			)
			if allPlatforms {
				as, err := image.OpenAll(ctx, args[0], env.open)
				if err != nil {
					return classifyImageErr(args[0], err)
				}
				bs, err := image.OpenAll(ctx, args[1], env.open)
				if err != nil {
					return classifyImageErr(args[1], err)
				}
				inB := map[string]bool{}
				for _, ib := range bs {
					inB[ib.Platform] = true
				}
				inA := map[string]bool{}
				for _, ia := range as {
					inA[ia.Platform] = true
					if !inB[ia.Platform] {
						onlyA = append(onlyA, ia.Platform)
					}
					for _, ib := range bs {
						if ia.Platform == ib.Platform {
							pairs = append(pairs, pair{ia, ib})
						}
					}
				}
				for _, ib := range bs {
					if !inA[ib.Platform] {
						onlyB = append(onlyB, ib.Platform)
					}
				}
				if len(pairs) == 0 {
					return usageErrorf("%s and %s have no platform in common", args[0], args[1])
				}
			} else {
				ia, err := openImage(ctx, args[0], env.open)
				if err != nil {
					return err
				}
				ib, err := openImage(ctx, args[1], env.open)
				if err != nil {
					return err
				}
				pairs = append(pairs, pair{ia, ib})
			}
			var diffs []*imagediff.Diff
			identical := len(onlyA) == 0 && len(onlyB) == 0
			// One scanner for every comparison: a layer read and checked
			// for one (or for --base) is not read again.
			scanner := inventory.NewScanner(env.inv)
			for _, p := range pairs {
				opts := imagediff.Options{Inventory: env.inv, Files: files, Scanner: scanner}
				if opts.BaseA, err = a.checkedBaseLayers(ctx, scanner, p.a, f.base, env.open); err != nil {
					return err
				}
				if opts.BaseB, err = a.checkedBaseLayers(ctx, scanner, p.b, f.base, env.open); err != nil {
					return err
				}
				d, err := imagediff.Compare(ctx, p.a, p.b, opts)
				if err != nil {
					return withCode(ExitFailure, fmt.Errorf("comparing %s and %s: %w", args[0], args[1], err))
				}
				diffs = append(diffs, d)
				identical = identical && d.Identical
			}
			env.stop()
			if err := imagediff.RenderPlatforms(cmd.OutOrStdout(), diffs, onlyA, onlyB, format); err != nil {
				return err
			}
			if !identical {
				return withCode(ExitFindings, nil)
			}
			return nil
		},
	}
	addImageFlags(cmd, &f)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or markdown")
	cmd.Flags().BoolVar(&allPlatforms, "all-platforms", false, "diff every platform present in both images, and name those only one has")
	cmd.Flags().BoolVar(&files, "files", false, "also list files added, removed and changed")
	return cmd
}
