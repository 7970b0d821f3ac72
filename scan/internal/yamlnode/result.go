package yamlnode

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/yamlpos"
)

// Command is the script a scalar node holds (a step's run:, a job's
// script line), as a scan.Command at the exact extent of its value; ok is
// false for a node that holds no text to judge.
func Command(ix *yamlpos.Index, n *yaml.Node, file, instruction, source string) (c scan.Command, ok bool) {
	v, ok := Str(n)
	if !ok || strings.TrimSpace(v) == "" {
		return scan.Command{}, false
	}
	start, end := Extent(ix, n)
	c = scan.Command{File: file, Instruction: instruction, Text: v, Source: source}
	c.Line, c.Column = ix.Position(start)
	c.EndLine, c.EndColumn = ix.Position(end)
	return c, true
}

// EditSpan is the edit span of the bytes [start, end), with the line and
// column of start that error messages name.
func EditSpan(ix *yamlpos.Index, start, end int, form ref.Form) *ref.Span {
	line, col := ix.Position(start)
	return &ref.Span{Start: start, End: end, Line: line, Column: col, Form: form}
}

// SortResult puts a result's references and commands in file order. The CI
// scanners find them in the order of the keys they know (jobs, then
// services, then scripts), and a reader of the report expects the file's.
func SortResult(res *scan.Result) {
	slices.SortStableFunc(res.Refs, ref.Compare)
	slices.SortStableFunc(res.Commands, func(a, b scan.Command) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}
