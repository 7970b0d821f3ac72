package report_test

import (
	"os"

	"github.com/stet-dev/stet/report"
	"github.com/stet-dev/stet/rules"
)

func ExampleWriteCheck() {
	c := report.Check{
		Findings: []rules.Finding{{
			Rule: "STET001", Severity: rules.Error, File: "Dockerfile",
			Line: 1, Column: 6, EndLine: 1, EndColumn: 20,
			Message: "image nginx:1-alpine is not pinned by digest", Reference: "nginx:1-alpine",
		}},
		Files: 1, References: 1,
	}
	for _, f := range []report.Format{report.Text, report.GitHub} {
		if err := report.WriteCheck(os.Stdout, f, c, report.Options{}); err != nil {
			panic(err)
		}
	}
	// Output:
	// Dockerfile:1:6: STET001 image nginx:1-alpine is not pinned by digest (error)
	// 1 error, 0 warnings in 1 file (1 reference)
	// ::error file=Dockerfile,line=1,col=6,endLine=1,endColumn=20,title=STET001::image nginx:1-alpine is not pinned by digest
}
