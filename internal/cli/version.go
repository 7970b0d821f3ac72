package cli

import (
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionInfo is what `stet version` reports, read from the build info the Go
// toolchain embeds: the module version for `go install …@v1.2.3`, and the
// VCS commit and time for builds from a checkout.
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	BuildDate string `json:"buildDate,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goVersion"`
}

// Release builds (scripts/dist, the Dockerfile) build with -buildvcs=false,
// so that a build from a source archive and one from a checkout are the same
// bytes, and stamp these instead:
//
//	-X github.com/stet-dev/stet/internal/cli.version=v1.2.3
//	-X github.com/stet-dev/stet/internal/cli.commit=<40-hex>
//	-X github.com/stet-dev/stet/internal/cli.buildDate=<commit date, RFC 3339>
//
// The date is the commit's, never the clock's, so rebuilding a commit gives
// identical binaries. Set values win over the build info.
var (
	version   string
	commit    string
	buildDate string
)

func readVersion() versionInfo {
	v := versionInfo{Version: "(devel)"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.GoVersion = bi.GoVersion
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.BuildDate = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		v.Version = version
	}
	if commit != "" {
		v.Commit = commit
		v.Modified = false
	}
	if buildDate != "" {
		v.BuildDate = buildDate
	}
	return v
}

func newVersionCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print stet's version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := readVersion()
			switch format {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			case "text":
				s := "stet " + v.Version
				if v.Commit != "" {
					s += " (commit " + v.Commit
					if v.Modified {
						s += ", modified"
					}
					if v.BuildDate != "" {
						s += ", " + v.BuildDate
					}
					s += ")"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", s, v.GoVersion)
				return nil
			}
			return usageErrorf("--format %q: want text or json", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
