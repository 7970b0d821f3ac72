// Package corpus lists the configuration files of real projects kept under
// testdata/corpus at the module root. The robustness tests, fuzz seeds and
// benchmarks of every package that reads such files run over them, and
// SOURCES.tsv says what kind of file each one is; this package is the one
// reader of that table.
package corpus

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stet-dev/stet/ref"
)

// Kinds as SOURCES.tsv names them.
const (
	Dockerfile = "dockerfile"
	Compose    = "compose"
	Kube       = "k8s"
	HelmValues = "helm-values"
	Kustomize  = "kustomize"
	Actions    = "actions"
	GitLab     = "gitlab"
)

// File is one row of SOURCES.tsv.
type File struct {
	// Path is slash-separated and relative to the corpus root, as the
	// table writes it.
	Path string
	// Kind is one of the kinds above.
	Kind string
}

// sources maps each kind to the ref source of the scanner that reads it.
var sources = map[string]string{
	Dockerfile: ref.SourceDockerfile,
	Compose:    ref.SourceCompose,
	Kube:       ref.SourceKube,
	HelmValues: ref.SourceHelm,
	Kustomize:  ref.SourceKustomize,
	Actions:    ref.SourceActions,
	GitLab:     ref.SourceGitLab,
}

// Source is the ref source (ref.SourceDockerfile, …) of the scanner that
// reads the file; ok is false for a kind no scanner reads.
func (f File) Source() (source string, ok bool) {
	source, ok = sources[f.Kind]
	return source, ok
}

// Kinds lists every kind a scanner reads, sorted.
func Kinds() []string {
	return slices.Sorted(maps.Keys(sources))
}

// List reads root/SOURCES.tsv: its rows after the header, in order. Rows
// with fewer than six columns are passed over.
func List(root string) ([]File, error) {
	f, err := os.Open(filepath.Join(root, "SOURCES.tsv"))
	if err != nil {
		return nil, fmt.Errorf("reading the corpus table: %w", err)
	}
	defer f.Close()
	var out []File
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		if header {
			header = false
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 6 {
			continue
		}
		out = append(out, File{Path: cols[0], Kind: cols[5]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the corpus table: %w", err)
	}
	return out, nil
}

// Paths lists the files of one kind, relative to root. A table that cannot
// be read, or a kind with no files, fails the test: a typo in the kind
// would otherwise pass everything vacuously.
func Paths(tb testing.TB, root, kind string) []string {
	tb.Helper()
	files, err := List(root)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if f.Kind == kind {
			out = append(out, f.Path)
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no %s files in the corpus", kind)
	}
	return out
}
