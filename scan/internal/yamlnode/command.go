package yamlnode

import (
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
