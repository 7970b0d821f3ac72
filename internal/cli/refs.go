package cli

import (
	"slices"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/report"
)

func newRefsCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "refs [PATH…]",
		Short: "List every image and action reference, pinned or not",
		Long: `Refs lists every image and action reference found under the paths (default:
the current directory), with its exact position, canonical name, tag, digest
and whether it is pinned. It never touches the network.

Files that cannot be parsed are reported after the others, and stet then
exits 2.`,
		Example: `  stet refs
  stet refs services/api deploy/ --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := report.ParseFormat(format, report.RefsFormats())
			if err != nil {
				return withCode(ExitUsage, err)
			}
			c, err := a.loadConfig(args)
			if err != nil {
				return err
			}
			rep, err := a.walk(cmd, args, c)
			if err != nil {
				return err
			}
			out := report.Refs{Files: len(rep.Files), Errors: inputErrors(rep)}
			for _, file := range rep.Files {
				out.Refs = append(out.Refs, file.Refs...)
			}
			slices.SortFunc(out.Refs, ref.Compare)
			if err := report.WriteRefs(cmd.OutOrStdout(), f, out, report.Options{Color: a.color(cmd.OutOrStdout()), ToolVersion: readVersion().Version}); err != nil {
				return err
			}
			if len(out.Errors) > 0 {
				return withCode(ExitUsage, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
