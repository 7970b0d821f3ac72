package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/stet-dev/stet/rules"
)

// checkGitHub writes GitHub Actions workflow commands, one annotation per
// finding and per input error:
//
//	::error file=Dockerfile,line=1,col=6,endLine=1,endColumn=20,title=STET001::image nginx:1-alpine is not pinned by digest
func checkGitHub(w io.Writer, c Check, o Options) error {
	bw := bufio.NewWriter(w)
	for _, e := range describeAll(c.Errors) {
		props := []string{}
		if e.File != "" {
			props = append(props, "file="+escapeProperty(relPath(e.File, o)))
			if e.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", e.Line))
			}
			if e.Column > 0 {
				props = append(props, fmt.Sprintf("col=%d", e.Column))
			}
		}
		props = append(props, "title="+escapeProperty("stet: input error"))
		fmt.Fprintf(bw, "::error %s::%s\n", strings.Join(props, ","), escapeData(e.Message))
	}
	for _, f := range c.Findings {
		cmd := "warning"
		switch f.Severity {
		case rules.Error:
			cmd = "error"
		case rules.Warning:
		default:
			cmd = "notice"
		}
		props := []string{"file=" + escapeProperty(relPath(f.File, o)), fmt.Sprintf("line=%d", f.Line), fmt.Sprintf("col=%d", f.Column)}
		if f.EndLine >= f.Line && f.EndLine > 0 {
			props = append(props, fmt.Sprintf("endLine=%d", f.EndLine))
			if f.EndColumn > 0 {
				props = append(props, fmt.Sprintf("endColumn=%d", f.EndColumn))
			}
		}
		props = append(props, "title="+escapeProperty(f.Rule))
		fmt.Fprintf(bw, "::%s %s::%s\n", cmd, strings.Join(props, ","), escapeData(f.Message))
	}
	return bw.Flush()
}

// escapeData escapes a workflow command's message as the runner decodes it.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command property value; ':' and ','
// would otherwise end the value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
