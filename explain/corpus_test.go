package explain_test

import (
	"testing"

	"github.com/stet-dev/stet/explain"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
)

// TestFilterCorpus selects every reference of the corpus of real files by
// each way a person would name it, and checks that excluding that name
// leaves it alone: names with registry ports, nested paths, Docker Hub
// short forms and action paths all round-trip.
func TestFilterCorpus(t *testing.T) {
	rep, err := scan.Walk(t.Context(), []string{"../testdata/corpus"}, scan.Options{Scanners: formats.Default()})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range rep.Files {
		for _, r := range f.Refs {
			if r.Name == "" || r.Dynamic {
				continue
			}
			n++
			names := []string{r.Name}
			if r.Kind == ref.Image {
				names = append(names, ref.FamiliarName(r.Name))
				if r.Tag != "" {
					names = append(names, ref.FamiliarName(r.Name)+":"+r.Tag)
				}
			} else if r.Tag != "" {
				names = append(names, r.Name+"@"+r.Tag)
			}
			for _, name := range names {
				only, err := explain.NewFilter([]string{name}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !only.Match(r.Kind, r.Name, r.Tag) {
					t.Errorf("%s:%d: --only %q does not select %s", r.File, r.Line, name, r.Text)
				}
				excl, _ := explain.NewFilter(nil, []string{name})
				if excl.Match(r.Kind, r.Name, r.Tag) {
					t.Errorf("%s:%d: --exclude %q keeps %s", r.File, r.Line, name, r.Text)
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("the corpus gave %d references; the scan found too little", n)
	}
}
