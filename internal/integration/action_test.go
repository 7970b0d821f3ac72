package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/rules"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
)

// actionDef is action.yml as the GitHub runner reads a composite action.
type actionDef struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Required    bool    `yaml:"required"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	Name             string            `yaml:"name"`
	ID               string            `yaml:"id"`
	If               string            `yaml:"if"`
	Uses             string            `yaml:"uses"`
	With             map[string]string `yaml:"with"`
	Shell            string            `yaml:"shell"`
	Run              string            `yaml:"run"`
	Env              map[string]string `yaml:"env"`
	WorkingDirectory string            `yaml:"working-directory"`
}

func loadAction(t *testing.T) *actionDef {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	var a actionDef
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return &a
}

var exprRE = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// TestActionDefinition checks action.yml's structure: a composite action
// whose expressions name inputs and earlier steps that exist, whose scripts
// take every value through env (no expression inside run:, so nothing can
// inject shell), and whose every input is used.
func TestActionDefinition(t *testing.T) {
	a := loadAction(t)
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", a.Runs.Using)
	}
	if a.Name == "" || a.Description == "" {
		t.Error("the action needs a name and a description for the Marketplace")
	}
	wantInputs := []string{"format", "go-version", "paths", "sarif-file", "upload-sarif", "verify", "working-directory"}
	var gotInputs []string
	for name, in := range a.Inputs {
		gotInputs = append(gotInputs, name)
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		if in.Required || in.Default == nil {
			t.Errorf("input %s: every input is optional with a default", name)
		}
	}
	sort.Strings(gotInputs)
	if diff := cmp.Diff(wantInputs, gotInputs); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	if d := a.Inputs["verify"].Default; d == nil || *d != "auto" {
		t.Errorf("verify defaults to %v, want auto", d)
	}

	used := map[string]bool{}
	ids := map[string]bool{}
	checkExprs := func(where, s string) {
		for _, m := range exprRE.FindAllStringSubmatch(s, -1) {
			checkExpr(t, where, m[1], a, ids, used)
		}
	}
	for i, st := range a.Runs.Steps {
		where := fmt.Sprintf("runs.steps[%d] (%s)", i, st.Name)
		if st.Name == "" {
			t.Errorf("%s has no name", where)
		}
		if (st.Uses == "") == (st.Run == "") {
			t.Errorf("%s: want exactly one of uses and run", where)
		}
		if st.Run != "" && st.Shell != "bash" {
			t.Errorf("%s: shell %q; composite run steps need one, and the scripts are bash", where, st.Shell)
		}
		if exprRE.MatchString(st.Run) {
			t.Errorf("%s: run: holds an expression; pass it through env: instead", where)
		}
		if st.If != "" {
			checkCondition(t, where, st.If, a, ids, used)
		}
		checkExprs(where+" working-directory", st.WorkingDirectory)
		for k, v := range st.With {
			checkExprs(where+" with."+k, v)
		}
		for k, v := range st.Env {
			checkExprs(where+" env."+k, v)
		}
		if st.ID != "" {
			if ids[st.ID] {
				t.Errorf("%s: step id %s used twice", where, st.ID)
			}
			ids[st.ID] = true
		}
	}
	for name, out := range a.Outputs {
		if out.Description == "" {
			t.Errorf("output %s has no description", name)
		}
		checkExprs("outputs."+name, out.Value)
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("input %s is never used", name)
		}
	}
}

var (
	inputRE = regexp.MustCompile(`^inputs\.([A-Za-z0-9_-]+)$`)
	stepRE  = regexp.MustCompile(`^steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)$`)
	condRE  = regexp.MustCompile(`^(\S+)\s*(==|!=)\s*'([^']*)'$`)
)

// checkExpr accepts the operands the action may use: inputs, earlier steps'
// outputs, and the runner's paths.
func checkExpr(t *testing.T, where, e string, a *actionDef, ids, used map[string]bool) {
	t.Helper()
	switch {
	case inputRE.MatchString(e):
		name := inputRE.FindStringSubmatch(e)[1]
		if _, ok := a.Inputs[name]; !ok {
			t.Errorf("%s: %s names no input", where, e)
		}
		used[name] = true
	case stepRE.MatchString(e):
		id := stepRE.FindStringSubmatch(e)[1]
		if !ids[id] && !strings.HasPrefix(where, "outputs.") {
			t.Errorf("%s: %s names no earlier step", where, e)
		}
	case e == "github.action_path" || e == "runner.temp" || e == "github.workspace":
	default:
		t.Errorf("%s: expression %q is not one the action is known to use", where, e)
	}
}

func checkCondition(t *testing.T, where, cond string, a *actionDef, ids, used map[string]bool) {
	t.Helper()
	for _, part := range strings.Split(cond, "&&") {
		m := condRE.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			t.Errorf("%s: condition %q: want comparisons with a quoted string joined by &&", where, cond)
			continue
		}
		checkExpr(t, where+" if", m[1], a, ids, used)
	}
}

// TestActionPinned runs stet's own scanner and rules over action.yml: no
// finding, every uses: pinned to a commit with its version comment, and
// that commit and comment found in the corpus of public files, so no pin
// was made up.
func TestActionPinned(t *testing.T) {
	code, stdout, stderr := stetInProcess("check", "--format", "json", filepath.Join(moduleRoot, "action.yml"))
	if code != 0 {
		t.Fatalf("stet check action.yml: exit %d\n%s%s", code, stdout, stderr)
	}
	var out struct {
		Findings []rules.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 0 {
		t.Errorf("findings: %v", out.Findings)
	}
	refs := scanFile(t, filepath.Join(moduleRoot, "action.yml"))
	corpus := corpusText(t)
	var names []string
	for _, r := range refs {
		names = append(names, r.Name)
		if r.Kind != ref.Action || len(r.Digest) != 40 || r.Tag == "" {
			t.Errorf("%s: want an action pinned to a commit with a version comment", r.Text)
		}
		if !strings.Contains(corpus, r.Name+"@"+r.Digest+" # "+r.Tag) {
			t.Errorf("%s@%s # %s appears nowhere in testdata/corpus", r.Name, r.Digest, r.Tag)
		}
	}
	if diff := cmp.Diff([]string{"actions/setup-go", "github/codeql-action/upload-sarif"}, names); diff != "" {
		t.Errorf("actions used (-want +got):\n%s", diff)
	}
}

// scanFile returns the references stet's scanners find in one file.
func scanFile(t *testing.T, p string) []ref.Ref {
	t.Helper()
	rep, err := scan.Walk(context.Background(), []string{p}, scan.Options{Scanners: formats.Default()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 || rep.Files[0].Err != nil {
		t.Fatalf("scanning %s: %+v", p, rep.Files)
	}
	return rep.Files[0].Refs
}

// actionRun is the outcome of one emulated run of the composite action.
type actionRun struct {
	exit    int      // 0 when every step succeeded, else the failing step's status
	failed  string   // the step that failed
	ran     []string // names of the steps that ran
	log     string   // what the steps printed
	uploads []sarifLog
	outputs map[string]string
}

type sarifLog struct {
	Category string
	Results  []string // ruleId file:line
}

// runner emulates the GitHub runner for this composite action, closely
// enough to run its scripts for real: expressions are evaluated (only the
// forms TestActionDefinition allows), run: steps are executed with bash as
// the runner does (bash --noprofile --norc -eo pipefail) with their env and
// working directory and a GITHUB_OUTPUT file, and the two uses: steps are
// stood in for: setup-go by the Go running this test, upload-sarif by
// reading and recording the SARIF file it would upload.
type runner struct {
	t          *testing.T
	action     *actionDef
	inputs     map[string]string
	workspace  string
	temp       string
	outputs    map[string]map[string]string
	stepStatus map[string]bool
}

// buildOnce shares the action's build step between runs: it depends on the
// action only, and each run would otherwise relink stet.
var buildOnce struct {
	sync.Mutex
	outputs map[string]string
	temp    string
}

func runAction(t *testing.T, workspace string, inputs map[string]string) *actionRun {
	t.Helper()
	a := loadAction(t)
	r := &runner{t: t, action: a, inputs: inputs, workspace: workspace, temp: t.TempDir(), outputs: map[string]map[string]string{}}
	for name := range inputs {
		if _, ok := a.Inputs[name]; !ok {
			t.Fatalf("test passes input %s, which the action does not declare", name)
		}
	}
	res := &actionRun{}
	var log strings.Builder
	for _, st := range a.Runs.Steps {
		if st.If != "" && !r.condition(st.If) {
			continue
		}
		res.ran = append(res.ran, st.Name)
		var code int
		switch {
		case st.ID == "build":
			code = r.build(st, &log)
		case st.Run != "":
			code = r.script(st, &log)
		case strings.HasPrefix(st.Uses, "actions/setup-go@"):
			if p := r.expand(st.With["go-version-file"]); !fileExists(p) {
				t.Fatalf("setup-go: go-version-file %s does not exist", p)
			}
		case strings.HasPrefix(st.Uses, "github/codeql-action/upload-sarif@"):
			res.uploads = append(res.uploads, r.readSARIF(r.expand(st.With["sarif_file"]), r.expand(st.With["category"])))
		default:
			t.Fatalf("step %q uses %s, which this runner cannot stand in for", st.Name, st.Uses)
		}
		if code != 0 {
			res.exit, res.failed = code, st.Name
			break
		}
	}
	res.log = log.String()
	res.outputs = map[string]string{}
	for name, out := range a.Outputs {
		res.outputs[name] = r.expand(out.Value)
	}
	return res
}

func (r *runner) value(e string) string {
	if m := inputRE.FindStringSubmatch(e); m != nil {
		if v, ok := r.inputs[m[1]]; ok {
			return v
		}
		in, ok := r.action.Inputs[m[1]]
		if !ok {
			r.t.Fatalf("expression %s: no such input", e)
		}
		if in.Default == nil {
			return ""
		}
		return *in.Default
	}
	if m := stepRE.FindStringSubmatch(e); m != nil {
		return r.outputs[m[1]][m[2]]
	}
	switch e {
	case "github.action_path":
		return moduleRoot
	case "github.workspace":
		return r.workspace
	case "runner.temp":
		return r.temp
	}
	r.t.Fatalf("expression %q: not supported", e)
	return ""
}

func (r *runner) expand(s string) string {
	return exprRE.ReplaceAllStringFunc(s, func(m string) string {
		return r.value(exprRE.FindStringSubmatch(m)[1])
	})
}

// condition evaluates an if: of comparisons joined by &&. GitHub compares
// strings ignoring case.
func (r *runner) condition(cond string) bool {
	for _, part := range strings.Split(cond, "&&") {
		m := condRE.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			r.t.Fatalf("condition %q: not supported", cond)
		}
		eq := strings.EqualFold(r.value(m[1]), m[3])
		if eq != (m[2] == "==") {
			return false
		}
	}
	return true
}

func (r *runner) build(st actionStep, log *strings.Builder) int {
	buildOnce.Lock()
	defer buildOnce.Unlock()
	if buildOnce.outputs == nil {
		// The first run's temporary directory holds the binary for every
		// later run; it is removed after the test binary exits.
		dir, err := os.MkdirTemp("", "stet-action-build-")
		if err != nil {
			r.t.Fatal(err)
		}
		saved := r.temp
		r.temp = dir
		code := r.script(st, log)
		r.temp = saved
		if code != 0 {
			return code
		}
		buildOnce.outputs = r.outputs[st.ID]
		buildOnce.temp = dir
	}
	r.outputs[st.ID] = buildOnce.outputs
	return 0
}

func (r *runner) script(st actionStep, log *strings.Builder) int {
	t := r.t
	dir := r.workspace
	if wd := r.expand(st.WorkingDirectory); wd != "" {
		if filepath.IsAbs(wd) {
			dir = wd
		} else {
			dir = filepath.Join(r.workspace, wd)
		}
	}
	stepDir := t.TempDir()
	script := filepath.Join(stepDir, "step.sh")
	if err := os.WriteFile(script, []byte(st.Run), 0o644); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(stepDir, "output")
	if err := os.WriteFile(outFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"GITHUB_OUTPUT=" + outFile,
		"GITHUB_WORKSPACE=" + r.workspace,
		"GITHUB_ACTION_PATH=" + moduleRoot,
		"RUNNER_TEMP=" + r.temp,
		"DOCKER_CONFIG=" + filepath.Join(r.temp, "docker"),
		"NO_COLOR=1",
	}
	keys := make([]string, 0, len(st.Env))
	for k := range st.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+r.expand(st.Env[k]))
	}
	code, out := runBinary(t, dir, env, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	fmt.Fprintf(log, "## %s (exit %d)\n%s", st.Name, code, out)
	outputs := map[string]string{}
	f, err := os.Open(outFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			t.Fatalf("step %s: GITHUB_OUTPUT line %q: want name=value", st.Name, sc.Text())
		}
		outputs[k] = v
	}
	if st.ID != "" {
		r.outputs[st.ID] = outputs
	}
	return code
}

func (r *runner) readSARIF(p, category string) sarifLog {
	data, err := os.ReadFile(p)
	if err != nil {
		r.t.Fatalf("upload-sarif: %v", err)
	}
	var doc struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name string `json:"name"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		r.t.Fatalf("upload-sarif: %s is not SARIF: %v", p, err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 || doc.Runs[0].Tool.Driver.Name != "stet" {
		r.t.Fatalf("upload-sarif: %s: version %q, %d runs; want one stet run of SARIF 2.1.0", p, doc.Version, len(doc.Runs))
	}
	l := sarifLog{Category: category, Results: []string{}}
	for _, res := range doc.Runs[0].Results {
		loc := res.Locations[0].PhysicalLocation
		l.Results = append(l.Results, fmt.Sprintf("%s %s:%d", res.RuleID, loc.ArtifactLocation.URI, loc.Region.StartLine))
	}
	return l
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

const (
	pinnedDockerfile = "FROM docker.io/library/golang:1.26.6@sha256:640a234f4bea3e399c056b7b8f9c667c4939befae8db2f14e9785e16eccd4205\n"
	incident         = "# the storefront\nFROM nginx:1-alpine\n"
)

// allSteps are the steps of a run in which nothing failed and everything
// was asked for.
var allSteps = []string{"Set up Go to build stet", "Build stet", "stet check", "stet verify", "Upload SARIF to code scanning", "Result"}

// TestActionRun runs the action's steps against fixture repositories.
func TestActionRun(t *testing.T) {
	noUpload := []string{"Set up Go to build stet", "Build stet", "stet check", "stet verify", "Result"}
	for _, tc := range []struct {
		name     string
		files    map[string]string
		inputs   map[string]string
		exit     int
		failed   string
		ran      []string
		uploads  []sarifLog
		contains []string // in the log
	}{
		{
			name:     "clean",
			files:    map[string]string{"Dockerfile": pinnedDockerfile},
			ran:      allSteps,
			uploads:  []sarifLog{{Category: "stet", Results: []string{}}},
			contains: []string{"stet: no stet.lock, verify skipped"},
		},
		{
			name:    "incident",
			files:   map[string]string{"Dockerfile": incident},
			exit:    1,
			failed:  "Result",
			ran:     allSteps,
			uploads: []sarifLog{{Category: "stet", Results: []string{"STET001 Dockerfile:2"}}},
			contains: []string{
				"::error file=Dockerfile,line=2,col=6,endLine=2,endColumn=20,title=STET001::image nginx:1-alpine is not pinned by digest",
			},
		},
		{
			name:     "no upload, text",
			files:    map[string]string{"Dockerfile": incident},
			inputs:   map[string]string{"upload-sarif": "false", "format": "text"},
			exit:     1,
			failed:   "Result",
			ran:      noUpload,
			contains: []string{"Dockerfile:2:6: STET001 image nginx:1-alpine is not pinned by digest (error)"},
		},
		{
			name:     "paths narrow the check",
			files:    map[string]string{"app/Dockerfile": pinnedDockerfile, "tools/Dockerfile": pinnedDockerfile, "legacy/Dockerfile": incident},
			inputs:   map[string]string{"paths": "app\n  tools", "format": "text"},
			ran:      allSteps,
			uploads:  []sarifLog{{Category: "stet", Results: []string{}}},
			contains: []string{"0 errors, 0 warnings in 2 files"},
		},
		{
			name:     "working directory",
			files:    map[string]string{"svc/Dockerfile": incident, "Dockerfile": pinnedDockerfile},
			inputs:   map[string]string{"working-directory": "svc", "sarif-file": "out.sarif"},
			exit:     1,
			failed:   "Result",
			ran:      allSteps,
			uploads:  []sarifLog{{Category: "stet", Results: []string{"STET001 svc/Dockerfile:2"}}},
			contains: []string{"::error file=svc/Dockerfile,line=2"},
		},
		{
			name:     "verify without a lock",
			files:    map[string]string{"Dockerfile": pinnedDockerfile},
			inputs:   map[string]string{"verify": "true", "upload-sarif": "false"},
			exit:     2,
			failed:   "Result",
			ran:      noUpload,
			contains: []string{"stet: no lock at stet.lock (run stet lock first)"},
		},
		{
			name:     "verify off",
			files:    map[string]string{"Dockerfile": pinnedDockerfile},
			inputs:   map[string]string{"verify": "false", "upload-sarif": "false"},
			ran:      []string{"Set up Go to build stet", "Build stet", "stet check", "Result"},
			contains: []string{"## stet check (exit 0)"},
		},
		{
			name:     "bad verify input",
			files:    map[string]string{"Dockerfile": pinnedDockerfile},
			inputs:   map[string]string{"verify": "sometimes", "upload-sarif": "false"},
			exit:     2,
			failed:   "Result",
			ran:      noUpload,
			contains: []string{`::error title=stet::input verify is "sometimes": want auto, true, offline or false`},
		},
		{
			name:     "bad upload input",
			files:    map[string]string{"Dockerfile": pinnedDockerfile},
			inputs:   map[string]string{"upload-sarif": "yes"},
			exit:     2,
			failed:   "Result",
			ran:      []string{"Set up Go to build stet", "Build stet", "stet check", "stet verify", "Result"},
			contains: []string{`input upload-sarif is "yes": want true or false`},
		},
		{
			name:     "bad format",
			files:    map[string]string{"Dockerfile": pinnedDockerfile},
			inputs:   map[string]string{"format": "xml", "upload-sarif": "false", "verify": "false"},
			exit:     2,
			failed:   "Result",
			ran:      []string{"Set up Go to build stet", "Build stet", "stet check", "Result"},
			contains: []string{"xml"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := fixture(t, tc.files)
			res := runAction(t, ws, tc.inputs)
			got := []any{res.exit, res.failed, res.ran, res.uploads}
			want := []any{tc.exit, tc.failed, tc.ran, tc.uploads}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("exit, failed step, steps run, uploads (-want +got):\n%s\nlog:\n%s", diff, res.log)
			}
			for _, s := range tc.contains {
				if !strings.Contains(res.log, s) {
					t.Errorf("log does not contain %q:\n%s", s, res.log)
				}
			}
			if res.outputs["exit-code"] != fmt.Sprint(tc.exit) {
				t.Errorf("output exit-code = %q, want %d", res.outputs["exit-code"], tc.exit)
			}
			if !fileExists(res.outputs["stet"]) {
				t.Errorf("output stet = %q: no such binary", res.outputs["stet"])
			}
			if sarif := res.outputs["sarif-file"]; (len(tc.uploads) > 0) != (sarif != "" && fileExists(sarif)) {
				t.Errorf("output sarif-file = %q with %d uploads", sarif, len(tc.uploads))
			}
		})
	}
}

// TestActionVerify runs the action's verify step for real: a repository
// locked against a registry on 127.0.0.1 passes until the tag it locked
// moves upstream, and then fails with STET011, with annotations; offline,
// the same lock still agrees with the files.
func TestActionVerify(t *testing.T) {
	host := testregistry.New(t)
	digest := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	ws := fixture(t, map[string]string{
		".stet.yaml": "registries:\n  mirrors:\n    docker.io: " + host + "\n",
		"Dockerfile": "FROM nginx:1-alpine@" + digest + "\n",
	})
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	if code, out := runBinary(t, ws, env, stetBin, "lock"); code != 0 {
		t.Fatalf("stet lock: exit %d\n%s", code, out)
	}

	res := runAction(t, ws, map[string]string{"upload-sarif": "false"})
	if res.exit != 0 || !strings.Contains(res.log, "## stet verify (exit 0)") {
		t.Fatalf("locked and unmoved: exit %d (step %q)\n%s", res.exit, res.failed, res.log)
	}

	moved := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	if moved == digest {
		t.Fatal("the second push did not move the tag")
	}
	res = runAction(t, ws, map[string]string{"upload-sarif": "false"})
	if res.exit != 1 || res.failed != "Result" || !strings.Contains(res.log, "title=STET011") || !strings.Contains(res.log, "## stet check (exit 0)") {
		t.Errorf("tag moved: exit %d (step %q), want 1 with STET011 from verify and a clean check\n%s", res.exit, res.failed, res.log)
	}

	res = runAction(t, ws, map[string]string{"upload-sarif": "false", "verify": "offline"})
	if res.exit != 0 {
		t.Errorf("offline: exit %d, want 0: the files still agree with the lock\n%s", res.exit, res.log)
	}
}
