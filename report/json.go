package report

import (
	"encoding/json"
	"io"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/rules"
)

// jsonError is an input error in JSON output; line and column are 0 when
// unknown.
type jsonError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

type jsonSummary struct {
	Files      int `json:"files"`
	References int `json:"references"`
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
}

type jsonCheck struct {
	Findings []rules.Finding `json:"findings"`
	Summary  jsonSummary     `json:"summary"`
	Errors   []jsonError     `json:"errors"`
}

// checkJSON writes {"findings": [...], "summary": {...}, "errors": [...]};
// empty lists are [] so consumers never see null.
func checkJSON(w io.Writer, c Check) error {
	ne, nw := c.Counts()
	out := jsonCheck{
		Findings: c.Findings,
		Summary:  jsonSummary{Files: c.Files, References: c.References, Errors: ne, Warnings: nw},
		Errors:   jsonErrors(c.Errors),
	}
	if out.Findings == nil {
		out.Findings = []rules.Finding{}
	}
	return encode(w, out)
}

// jsonRef is a reference in `stet refs --format json`: ref.Ref's fields in
// the documented order, with pinned added; notEditable only when set.
type jsonRef struct {
	File      string   `json:"file"`
	Line      int      `json:"line"`
	Column    int      `json:"column"`
	EndLine   int      `json:"endLine"`
	EndColumn int      `json:"endColumn"`
	Kind      ref.Kind `json:"kind"`
	Source    string   `json:"source"`
	Text      string   `json:"text"`
	Name      string   `json:"name"`
	Tag       string   `json:"tag"`
	Digest    string   `json:"digest"`
	Pinned    bool     `json:"pinned"`
	Dynamic   bool     `json:"dynamic"`
	Context   string   `json:"context"`
	// NotEditable is ref.Ref.NotEditable: why a pin cannot rewrite it.
	NotEditable string `json:"notEditable,omitempty"`
}

type jsonRefs struct {
	References []jsonRef   `json:"references"`
	Errors     []jsonError `json:"errors"`
}

func refsJSON(w io.Writer, r Refs) error {
	out := jsonRefs{References: make([]jsonRef, 0, len(r.Refs)), Errors: jsonErrors(r.Errors)}
	for _, x := range r.Refs {
		out.References = append(out.References, jsonRef{
			File: x.File, Line: x.Line, Column: x.Column, EndLine: x.EndLine, EndColumn: x.EndColumn,
			Kind: x.Kind, Source: x.Source, Text: x.Text, Name: x.Name, Tag: x.Tag, Digest: x.Digest,
			Pinned: x.Pinned(), Dynamic: x.Dynamic, Context: x.Context, NotEditable: x.NotEditable,
		})
	}
	return encode(w, out)
}

func jsonErrors(errs []error) []jsonError {
	out := []jsonError{}
	for _, e := range describeAll(errs) {
		out = append(out, jsonError{File: e.File, Line: e.Line, Column: e.Column, Message: e.Message})
	}
	return out
}

func encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
