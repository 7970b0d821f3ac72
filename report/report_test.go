package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/rules"
	"github.com/stet-dev/stet/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const digest = "sha256:4ff102c5d78d254a6f0da062b3cf39eaf07f01eec0927fd21e219d0af8bc0591"

// fixtureCheck has one of everything a check report shows: errors and
// warnings, a finding whose file name and message need escaping in every
// format, and input errors with and without a position.
func fixtureCheck() Check {
	return Check{
		Findings: []rules.Finding{
			{Rule: "STET001", Severity: rules.Error, File: "Dockerfile", Line: 1, Column: 6, EndLine: 1, EndColumn: 20,
				Message: "image nginx:1-alpine is not pinned by digest", Reference: "nginx:1-alpine"},
			{Rule: "STET020", Severity: rules.Warning, File: "Dockerfile", Line: 3, Column: 5, EndLine: 5, EndColumn: 12,
				Message: "apt-get install of curl, git without a version (pin with pkg=version)", Reference: "curl git"},
			{Rule: "STET003", Severity: rules.Error, File: ".github/workflows/ci.yml", Line: 9, Column: 15, EndLine: 9, EndColumn: 34,
				Message: "action actions/checkout@v4 is not pinned to a full commit SHA", Reference: "actions/checkout@v4"},
			{Rule: "STET001", Severity: rules.Error, File: "deploy/100%, a:b.yaml", Line: 7, Column: 12, EndLine: 7, EndColumn: 19,
				Message: "image redis:7 is not pinned by digest\nsecond line 50%", Reference: "redis:7"},
			{Rule: "STET001", Severity: rules.Error, File: "deploy/100%, a:b.yaml", Line: 12, Column: 12, EndLine: 12, EndColumn: 19,
				Message: "image redis:7 is not pinned by digest\nsecond line 50%", Reference: "redis:7"},
		},
		Errors: []error{
			scan.Errorf("compose.yaml", 3, 1, "yaml: did not find expected key"),
			&scan.Error{File: "k8s/broken.yaml", Err: errors.New("reading: permission denied")},
			errors.New("walking missing/: no such file or directory"),
		},
		Files:      6,
		References: 9,
	}
}

func fixtureRefs(t *testing.T) Refs {
	t.Helper()
	mk := func(file string, line, col int, source, ctx, text string) ref.Ref {
		r := ref.Ref{File: file, Line: line, Column: col, EndLine: line, EndColumn: col + len(text), Source: source, Text: text, Context: ctx}
		var err error
		if source == ref.SourceActions && !strings.HasPrefix(text, "docker://") {
			err = r.SetAction(text)
		} else {
			err = r.SetImage(strings.TrimPrefix(text, "docker://"))
		}
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	pinnedAction := mk(".github/workflows/ci.yml", 12, 15, ref.SourceActions, "jobs.build.steps[1].uses", "actions/setup-go@41dfa10bad2bb2ae585af6ee5bb4d7d973ad74ed")
	pinnedAction.Tag = "v5.1.0"
	dyn := ref.Ref{File: "compose.yaml", Line: 4, Column: 12, EndLine: 4, EndColumn: 20, Kind: ref.Image, Source: ref.SourceCompose,
		Text: "${IMAGE}", Dynamic: true, Context: "services.web.image"}
	shared := mk("Dockerfile", 10, 6, ref.SourceDockerfile, "FROM", "python:3")
	shared.Text, shared.EndColumn = "${PY}", 11
	shared.NotEditable = "its value, the default at line 2, is also used at line 12 in ${PY}-slim, which a digest appended to it would break; " +
		"give this reference a variable of its own to pin it"
	return Refs{
		Refs: []ref.Ref{
			mk(".github/workflows/ci.yml", 9, 15, ref.SourceActions, "jobs.build.steps[0].uses", "actions/checkout@v4"),
			pinnedAction,
			mk("Dockerfile", 1, 6, ref.SourceDockerfile, "FROM", "nginx:1-alpine"),
			mk("Dockerfile", 8, 6, ref.SourceDockerfile, "FROM", "ghcr.io/acme/base:2.1@"+digest),
			shared,
			dyn,
		},
		Errors: []error{scan.Errorf("charts/x/values.yaml", 10, 4, "yaml: mapping values are not allowed in this context")},
		Files:  3,
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (create it with -update): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs; if intended, run go test ./report -update (-want +got):\n%s", path, diff)
	}
}

func TestWriteCheckGolden(t *testing.T) {
	opts := Options{ToolVersion: "1.2.3"}
	tests := []struct {
		name   string
		format Format
		check  Check
		opts   Options
	}{
		{"check.txt", Text, fixtureCheck(), opts},
		{"check-color.txt", Text, fixtureCheck(), Options{Color: true}},
		{"check.json", JSON, fixtureCheck(), opts},
		{"check.sarif", SARIF, fixtureCheck(), opts},
		{"check.github", GitHub, fixtureCheck(), opts},
		{"clean.txt", Text, Check{Files: 1, References: 1}, opts},
		{"clean.json", JSON, Check{Files: 1, References: 1}, opts},
		{"clean.sarif", SARIF, Check{Files: 1, References: 1}, opts},
		{"clean.github", GitHub, Check{Files: 1, References: 1}, opts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCheck(&buf, tt.format, tt.check, tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

func TestWriteRefsGolden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		format Format
		refs   Refs
		opts   Options
	}{
		{"refs.txt", Text, fixtureRefs(t), Options{}},
		{"refs-color.txt", Text, fixtureRefs(t), Options{Color: true}},
		{"refs.json", JSON, fixtureRefs(t), Options{}},
		{"refs-empty.json", JSON, Refs{}, Options{}},
		{"refs-empty.txt", Text, Refs{Files: 2}, Options{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteRefs(&buf, tt.format, tt.refs, tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

// TestCheckJSONSchema decodes the JSON report and checks the documented
// shape: field names, empty lists as [], the summary counts.
func TestCheckJSONSchema(t *testing.T) {
	t.Parallel()
	for _, c := range []Check{fixtureCheck(), {}} {
		var buf bytes.Buffer
		if err := WriteCheck(&buf, JSON, c, Options{}); err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if _, ok := got["findings"].([]any); !ok {
			t.Errorf("findings is %T, want a list: %s", got["findings"], buf.String())
		}
		if _, ok := got["errors"].([]any); !ok {
			t.Errorf("errors is %T, want a list: %s", got["errors"], buf.String())
		}
		ne, nw := c.Counts()
		want := map[string]any{"files": float64(c.Files), "references": float64(c.References), "errors": float64(ne), "warnings": float64(nw)}
		if diff := cmp.Diff(want, got["summary"]); diff != "" {
			t.Errorf("summary (-want +got):\n%s", diff)
		}
	}
	var buf bytes.Buffer
	if err := WriteCheck(&buf, JSON, fixtureCheck(), Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"rule": "STET001", "severity": "error", "file": "Dockerfile", "line": float64(1), "column": float64(6),
		"endLine": float64(1), "endColumn": float64(20), "message": "image nginx:1-alpine is not pinned by digest", "reference": "nginx:1-alpine"}
	if diff := cmp.Diff(want, doc.Findings[0]); diff != "" {
		t.Errorf("first finding (-want +got):\n%s", diff)
	}
}

// TestSARIFSchema validates SARIF output against the published SARIF 2.1.0
// schema.
func TestSARIFSchema(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const loc = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(loc, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(loc)
	if err != nil {
		t.Fatal(err)
	}
	for name, check := range map[string]Check{"fixture": fixtureCheck(), "clean": {}} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCheck(&buf, SARIF, check, Options{ToolVersion: "1.2.3", BaseDir: "/repo"}); err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Errorf("SARIF output does not validate:\n%v", err)
			}
		})
	}
	// The validator must be able to fail.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}`))
	if schema.Validate(bad) == nil {
		t.Errorf("a SARIF log without a driver name validated")
	}
}

// TestSARIFContent checks what GitHub code scanning relies on beyond the
// schema: rule indexes, levels, relative URIs, fingerprints.
func TestSARIFContent(t *testing.T) {
	t.Parallel()
	c := fixtureCheck()
	c.Findings = append(c.Findings,
		rules.Finding{Rule: "STET012", Severity: rules.Warning, File: "/repo/sub dir/Dockerfile", Line: 2, Column: 1, Message: "gone"},
		rules.Finding{Rule: "STET012", Severity: rules.Warning, File: "c:d.yaml", Line: 2, Column: 1, Message: "gone"},
		rules.Finding{Rule: "STET012", Severity: rules.Warning, File: "/elsewhere/compose.yaml", Line: 2, Column: 1, Message: "gone"},
		rules.Finding{Rule: "STET012", Severity: rules.Warning, File: "./x/../compose.yaml", Line: 2, Column: 1, Message: "gone"},
	)
	var buf bytes.Buffer
	if err := WriteCheck(&buf, SARIF, c, Options{BaseDir: "/repo"}); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if n := len(run.Tool.Driver.Rules); n != len(rules.Catalogue()) {
		t.Errorf("driver has %d rules, want the whole catalogue", n)
	}
	var got []string
	fps := map[string]bool{}
	for _, r := range run.Results {
		rule := run.Tool.Driver.Rules[*r.RuleIndex]
		if rule.ID != r.RuleID {
			t.Errorf("result %s points at rule %s", r.RuleID, rule.ID)
		}
		a := r.Locations[0].PhysicalLocation.ArtifactLocation
		got = append(got, fmt.Sprintf("%s %s %s %s", r.RuleID, r.Level, a.URIBaseID, a.URI))
		fp := r.PartialFingerprints[fingerprintKey]
		if fps[fp] {
			t.Errorf("fingerprint %s repeated", fp)
		}
		fps[fp] = true
	}
	want := []string{
		"STET001 error %SRCROOT% Dockerfile",
		"STET020 warning %SRCROOT% Dockerfile",
		"STET003 error %SRCROOT% .github/workflows/ci.yml",
		"STET001 error %SRCROOT% deploy/100%25%2C%20a%3Ab.yaml",
		"STET001 error %SRCROOT% deploy/100%25%2C%20a%3Ab.yaml",
		"STET012 warning %SRCROOT% sub%20dir/Dockerfile",
		"STET012 warning %SRCROOT% c%3Ad.yaml",
		"STET012 warning  file:///elsewhere/compose.yaml",
		"STET012 warning %SRCROOT% compose.yaml",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if n := len(run.Invocations[0].ToolExecutionNotifications); n != 3 || run.Invocations[0].ExecutionSuccessful {
		t.Errorf("invocation = %+v, want 3 notifications and no success", run.Invocations[0])
	}
}

// TestSARIFCodePointColumns: the log declares unicodeCodePoints, so a
// reference after non-ASCII text on its line gets its column in characters;
// a file that cannot be read keeps the byte column.
func TestSARIFCodePointColumns(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"deploy/pod.yaml": "a: 1\nlabels: {équipe: café, image: nginx:1}\n",
	}
	// "image: nginx:1" starts at byte 37 and character 35 of line 2.
	line := "labels: {équipe: café, image: nginx:1}"
	col := strings.Index(line, "nginx") + 1
	c := Check{Findings: []rules.Finding{
		{Rule: "STET001", Severity: rules.Error, File: "deploy/pod.yaml", Line: 2, Column: col, EndLine: 2, EndColumn: col + len("nginx:1"), Message: "m"},
		{Rule: "STET001", Severity: rules.Error, File: "gone.yaml", Line: 2, Column: col, EndLine: 2, EndColumn: col + 7, Message: "m"},
	}}
	read := func(name string) ([]byte, error) {
		if d, ok := files[filepath.ToSlash(name)]; ok {
			return []byte(d), nil
		}
		return nil, os.ErrNotExist
	}
	var buf bytes.Buffer
	if err := WriteCheck(&buf, SARIF, c, Options{ReadFile: read}); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	var got [][2]int
	for _, r := range log.Runs[0].Results {
		reg := r.Locations[0].PhysicalLocation.Region
		got = append(got, [2]int{reg.StartColumn, reg.EndColumn})
	}
	chars := len([]rune(line[:col-1])) + 1
	want := [][2]int{{chars, chars + 7}, {col, col + 7}}
	if chars == col {
		t.Fatal("the fixture line has no multi-byte character before the reference")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

func TestGitHubEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"a,b:c", "a,b:c", "a%2Cb%3Ac"},
		{"100% done\r\nnext", "100%25 done%0D%0Anext", "100%25 done%0D%0Anext"},
	}
	for _, tt := range tests {
		if got := escapeData(tt.in); got != tt.data {
			t.Errorf("escapeData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := escapeProperty(tt.in); got != tt.prop {
			t.Errorf("escapeProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	if f, err := ParseFormat(" SARIF", CheckFormats()); err != nil || f != SARIF {
		t.Errorf("ParseFormat(SARIF) = %q, %v", f, err)
	}
	if _, err := ParseFormat("sarif", RefsFormats()); err == nil || err.Error() != `unknown format "sarif": want text, json` {
		t.Errorf("ParseFormat(sarif) for refs = %v", err)
	}
	if err := WriteCheck(&bytes.Buffer{}, "xml", Check{}, Options{}); err == nil {
		t.Errorf("WriteCheck accepted format xml")
	}
	if err := WriteRefs(&bytes.Buffer{}, GitHub, Refs{}, Options{}); err == nil {
		t.Errorf("WriteRefs accepted format github")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	for _, f := range CheckFormats() {
		err := WriteCheck(failWriter{}, f, fixtureCheck(), Options{})
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("WriteCheck(%s) to a failing writer = %v", f, err)
		}
	}
	for _, f := range RefsFormats() {
		if err := WriteRefs(failWriter{}, f, fixtureRefs(t), Options{}); err == nil {
			t.Errorf("WriteRefs(%s) to a failing writer succeeded", f)
		}
	}
}

func TestInputErrors(t *testing.T) {
	t.Parallel()
	parse := scan.Errorf("a.yaml", 2, 3, "bad")
	files := []scan.File{
		{Path: "ok/Dockerfile"},
		{Path: "a.yaml", Err: parse},
		{Path: "b.yaml", Err: fmt.Errorf("reading: %w", os.ErrPermission)},
	}
	var got []string
	for _, e := range InputErrors(files) {
		got = append(got, e.Error())
	}
	want := []string{"a.yaml:2:3: bad", "b.yaml: reading: permission denied"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("InputErrors (-want +got):\n%s", diff)
	}
	if !errors.Is(InputErrors(files)[1], os.ErrPermission) {
		t.Errorf("InputErrors lost the wrapped error")
	}
}
