package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/edit"
	"github.com/stet-dev/stet/explain"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
	"github.com/stet-dev/stet/scan"
)

// resolveFlags are the flags of every verb that asks registries.
type resolveFlags struct {
	mirrors     []string
	platforms   []string
	concurrency int
}

func addResolveFlags(cmd *cobra.Command, rf *resolveFlags) {
	f := cmd.Flags()
	f.StringArrayVar(&rf.mirrors, "mirror", nil, "resolve a registry through a mirror, HOST=MIRROR[/prefix] (repeatable; adds to .stet.yaml registries.mirrors)")
	f.StringSliceVar(&rf.platforms, "platform", nil, "require these platforms (os/arch[/variant], comma-separated) in every image")
	f.IntVar(&rf.concurrency, "concurrency", 0, "requests in flight per registry (default 32, or .stet.yaml registries.concurrency)")
}

// newResolver builds the registry client and resolver from settings and flags.
func (a *app) newResolver(c *config.Config, rf *resolveFlags, extra ...resolve.Option) (*resolve.Resolver, *registry.Client, error) {
	mirrors := map[string]string{}
	for k, v := range c.Registries.Mirrors {
		mirrors[k] = v
	}
	for _, m := range rf.mirrors {
		from, to, ok := strings.Cut(m, "=")
		if !ok || from == "" || to == "" {
			return nil, nil, usageErrorf("--mirror %q: want HOST=MIRROR[/prefix]", m)
		}
		mirrors[from] = to
	}
	conc := c.Registries.Concurrency
	if rf.concurrency != 0 {
		conc = rf.concurrency
	}
	if conc < 0 {
		return nil, nil, usageErrorf("--concurrency must be positive")
	}
	opts := []registry.Option{
		registry.WithMirrors(mirrors),
		registry.WithInsecure(c.Registries.Insecure...),
		registry.WithLogger(a.logger),
	}
	if conc > 0 {
		opts = append(opts, registry.WithConcurrency(conc))
	}
	client, err := registry.New(opts...)
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	ropts := []resolve.Option{resolve.WithLogger(a.logger)}
	if c.Actions.GitURL != "" {
		ropts = append(ropts, resolve.WithGitURL(c.Actions.GitURL))
	}
	if tok := gitToken(c.Actions.GitURL); tok != "" {
		ropts = append(ropts, resolve.WithGitToken(tok))
	}
	if len(rf.platforms) > 0 {
		ropts = append(ropts, resolve.WithRequirePlatforms(rf.platforms...))
	}
	if isTerminal(a.stderr) {
		ropts = append(ropts, resolve.WithProgress(func(done, total int) {
			if total == 0 {
				return
			}
			fmt.Fprintf(a.stderr, "\rresolving %d/%d", done, total)
			if done == total {
				fmt.Fprint(a.stderr, "\r\033[K")
			}
		}))
	}
	res, err := resolve.New(client, append(ropts, extra...)...)
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	return res, client, nil
}

// change is one reference rewritten (or, with --dry-run, to be rewritten).
type change struct {
	File      string   `json:"file"`
	Line      int      `json:"line"`
	Column    int      `json:"column"`
	Kind      ref.Kind `json:"kind"`
	Reference string   `json:"reference"`
	Name      string   `json:"name"`
	Tag       string   `json:"tag"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	Version   string   `json:"version,omitempty"`
	// EditLine is where the bytes change when that is not the reference's
	// own line (an ARG default).
	EditLine int `json:"editLine,omitempty"`

	edit edit.Edit
}

// skip is a reference left alone, with the reason.
type skip struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Reference string `json:"reference"`
	Reason    string `json:"reason"`
}

// rewriteResult is what pin, unpin and update report.
type rewriteResult struct {
	Changes []change `json:"changes"`
	Skipped []skip   `json:"skipped"`
	// Files is the number of files changed.
	Files  int  `json:"files"`
	DryRun bool `json:"dryRun"`
	// Explain is what the moves change, with --explain.
	Explain *explain.Report `json:"explain,omitempty"`
	// Lock is what changed in stet.lock, when there is one to refresh.
	Lock *lockSummary `json:"lock,omitempty"`
}

func newPinCmd(a *app) *cobra.Command {
	var (
		rf     resolveFlags
		ef     explainFlags
		dryRun bool
		format string
	)
	cmd := &cobra.Command{
		Use:   "pin [PATH...]",
		Short: "Resolve references and pin them to digests in place",
		Long: `Pin resolves every unpinned image tag and action version to its current
digest or commit and writes it beside the tag, changing no other byte of the
file: nginx:1-alpine becomes nginx:1-alpine@sha256:…, actions/checkout@v4
becomes actions/checkout@<commit> # v4.2.2. For FROM ${BASE} the ARG default
is pinned, unless another line uses that default inside a longer value
(FROM ${BASE}-alpine), which a digest would break: then it is skipped with
the line that prevents it.

References built from variables without a static value, and names that are
outputs of a build, are skipped with a warning. If any reference cannot be
resolved, no file is changed and stet exits 3. Files are replaced
atomically; an interrupted run leaves every file as it was.

When stet.lock exists, it is refreshed after the files are written, as
"stet lock PATH..." would, so that "stet verify --offline" agrees. If that
fails, the files stay pinned, stet.lock is left as it was, and stet exits 3.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkExplainFormat(format, &ef); err != nil {
				return err
			}
			return a.rewrite(cmd, args, rewriteOptions{op: opPin, rf: &rf, ex: &ef, dryRun: dryRun, format: format})
		},
	}
	addResolveFlags(cmd, &rf)
	addExplainFlags(cmd, &ef, false)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print a unified diff of the changes and write nothing")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, or markdown with --explain")
	return cmd
}

func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return usageErrorf("--format %q: want text or json", f)
	}
	return nil
}

type rewriteOp int

const (
	opPin rewriteOp = iota
	opUnpin
	opUpdate
)

type rewriteOptions struct {
	op     rewriteOp
	rf     *resolveFlags
	ex     *explainFlags // nil for unpin
	dryRun bool
	format string
}

// rewrite is pin, unpin and update: scan, decide each reference's edit
// (resolving when needed), patch every file in memory, and only when all of
// that succeeded write the files (or print the diff).
func (a *app) rewrite(cmd *cobra.Command, paths []string, o rewriteOptions) error {
	ctx := cmd.Context()
	c, err := a.loadConfig(paths)
	if err != nil {
		return err
	}
	rep, err := a.walk(cmd, paths, c)
	if err != nil {
		return err
	}
	if errs := inputErrors(rep); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintf(a.stderr, "stet: %v\n", e)
		}
		return withCode(ExitUsage, fmt.Errorf("%d file(s) could not be parsed; nothing was changed", len(errs)))
	}
	var result rewriteResult
	result.DryRun = o.dryRun
	var refs, todo []ref.Ref
	var candidates []int
	for i, f := range rep.Files {
		refs = append(refs, f.Refs...)
		if slices.ContainsFunc(f.Refs, func(r ref.Ref) bool { _, ok := precheck(r, o.op); return ok }) {
			candidates = append(candidates, i)
		}
	}
	for _, r := range refs {
		if why, ok := precheck(r, o.op); ok {
			todo = append(todo, r)
		} else if why != "" {
			result.Skipped = append(result.Skipped, skip{File: r.File, Line: r.Line, Reference: display(r), Reason: why})
		}
	}
	todo = a.selectRefs(o, todo)

	// Resolve first (pin, update), then read the files that may change:
	// those bytes are the ones patched, and every reference to edit must
	// still be where and what the walk saw, so that a file edited while the
	// registries answered is not patched blindly.
	var resolution *resolve.Resolution
	var client *registry.Client
	if o.op != opUnpin && len(todo) > 0 {
		res, cl, err := a.newResolver(c, o.rf)
		client = cl
		if err != nil {
			return err
		}
		resolution, err = res.Resolve(ctx, todo)
		if resolution != nil {
			for _, w := range resolution.Warnings {
				fmt.Fprintf(a.stderr, "stet: warning: %s:%d: %s\n", w.Ref.File, w.Ref.Line, w.Message)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return withCode(ExitFailure, errors.New("interrupted; no file was changed"))
			}
			return withCode(ExitFailure, fmt.Errorf("%w\nno file was changed", err))
		}
	}
	files, err := reread(rep, candidates, o.op)
	if err != nil {
		return err
	}
	for _, r := range todo {
		if why, ok := applicable(r, o.op, files[r.File]); !ok {
			result.Skipped = append(result.Skipped, skip{File: r.File, Line: r.Line, Reference: display(r), Reason: why})
			continue
		}
		if o.op == opUnpin {
			e, _ := edit.ForUnpin(r)
			result.Changes = append(result.Changes, newChange(r, e, r.Digest, r.Tag, ""))
			continue
		}
		rs := resolution.For(r)
		if rs == nil || rs.Digest == "" {
			return withCode(ExitFailure, fmt.Errorf("%s:%d: %s was not resolved; no file was changed", r.File, r.Line, display(r)))
		}
		if o.op == opUpdate && rs.Digest == r.Digest && (r.Kind != ref.Action || rs.Version == r.Tag) {
			continue // unchanged pins stay byte-identical
		}
		e, _ := edit.ForPin(r, rs.Digest, rs.Version)
		result.Changes = append(result.Changes, newChange(r, e, r.Digest, rs.Digest, rs.Version))
	}
	slices.SortFunc(result.Skipped, func(x, y skip) int {
		return ref.Compare(ref.Ref{File: x.File, Line: x.Line}, ref.Ref{File: y.File, Line: y.Line})
	})
	slices.SortFunc(result.Changes, func(x, y change) int {
		return ref.Compare(ref.Ref{File: x.File, Line: x.Line, Column: x.Column}, ref.Ref{File: y.File, Line: y.Line, Column: y.Column})
	})

	if err := a.explainRewrite(ctx, o, c, client, &result); err != nil {
		return err
	}

	// Patch everything in memory first: one bad edit changes nothing.
	byFile := map[string][]edit.Edit{}
	for _, ch := range result.Changes {
		byFile[ch.File] = append(byFile[ch.File], ch.edit)
	}
	names := make([]string, 0, len(byFile))
	for f := range byFile {
		names = append(names, f)
	}
	slices.Sort(names)
	patched := make(map[string][]byte, len(names))
	for _, f := range names {
		out, err := edit.Patch(f, files[f], byFile[f])
		if err != nil {
			return withCode(ExitFailure, fmt.Errorf("%w; no file was changed", err))
		}
		if !bytes.Equal(out, files[f]) {
			patched[f] = out
		}
	}
	result.Files = len(patched)

	out := cmd.OutOrStdout()
	if o.dryRun {
		if lp := lockFile(c, ""); o.op != opUnpin && len(patched) > 0 && fileExists(lp) {
			fmt.Fprintf(a.stderr, "stet: %s would be refreshed too\n", relPath(lp))
		}
		if o.format == "text" {
			for _, f := range names {
				if p, ok := patched[f]; ok {
					if err := edit.Diff(out, f, files[f], p); err != nil {
						return err
					}
				}
			}
			a.printSkips(result.Skipped)
			if result.Explain.Moved() {
				fmt.Fprintln(out)
				return explain.Render(out, result.Explain, explain.FormatText)
			}
			return nil
		}
		return a.renderRewrite(out, o, &result)
	}
	if ctx.Err() != nil {
		return withCode(ExitFailure, errors.New("interrupted; no file was changed"))
	}
	// From here the writes run to the end even if interrupted: each is
	// atomic and fast, and a half-applied set would be worse than either.
	if err := writeAll(context.WithoutCancel(ctx), names, patched); err != nil {
		return withCode(ExitFailure, err)
	}
	// A stet.lock must agree with the files (stet verify --offline): the
	// pins just written are re-locked, as stet lock PATH... would.
	var lockErr error
	if o.op != opUnpin && len(patched) > 0 {
		if lp := lockFile(c, ""); fileExists(lp) {
			result.Lock, lockErr = a.relock(cmd, paths, o.rf, lp)
		}
	}
	if err := a.renderRewrite(out, o, &result); err != nil {
		return err
	}
	if lockErr != nil {
		return withCode(codeOf(lockErr), fmt.Errorf("%w\nthe files were changed; stet.lock still records the previous digests until 'stet lock' succeeds", lockErr))
	}
	if result.Lock != nil {
		a.printLockState(result.Lock)
	}
	return nil
}

// relock rescans paths, now rewritten, and refreshes the lock at lp.
func (a *app) relock(cmd *cobra.Command, paths []string, rf *resolveFlags, lp string) (*lockSummary, error) {
	c, _, refs, err := a.scanFiles(cmd, paths)
	if err != nil {
		return nil, err
	}
	return a.writeLock(cmd.Context(), c, paths, refs, rf, lp)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func writeAll(_ context.Context, names []string, patched map[string][]byte) error {
	files := make(map[string][]byte, len(patched))
	for _, f := range names {
		if p, ok := patched[f]; ok {
			files[filepath.FromSlash(f)] = p
		}
	}
	return edit.WriteFiles(files)
}

// reread reads the files at the given indexes of rep, in parallel, and
// checks that every reference op may edit still reads as the walk found it.
func reread(rep *scan.Report, idx []int, op rewriteOp) (map[string][]byte, error) {
	datas := make([][]byte, len(idx))
	errs := make([]error, len(idx))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(2*runtime.GOMAXPROCS(0), len(idx)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				f := rep.Files[idx[k]]
				data, err := os.ReadFile(filepath.FromSlash(f.Path))
				if err != nil {
					errs[k] = fmt.Errorf("reading %s: %w", f.Path, err)
					continue
				}
				lines := lineStarts(data)
				for _, r := range f.Refs {
					if _, ok := precheck(r, op); ok && !textAt(data, lines, r) {
						errs[k] = withCode(ExitFailure, fmt.Errorf("%s:%d: %s changed since it was scanned; no file was changed", r.File, r.Line, f.Path))
						break
					}
				}
				datas[k] = data
			}
		}()
	}
	for k := range idx {
		next <- k
	}
	close(next)
	wg.Wait()
	files := make(map[string][]byte, len(idx))
	for k, i := range idx {
		if errs[k] != nil {
			return nil, errs[k]
		}
		files[rep.Files[i].Path] = datas[k]
	}
	return files, nil
}

func lineStarts(data []byte) []int {
	starts := make([]int, 1, 64)
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// textAt reports whether r.Text is at r's position in data. References
// written over several lines are not checked here (they are not editable
// in place); their edit spans are checked by the patcher.
func textAt(data []byte, lines []int, r ref.Ref) bool {
	if r.EndLine != r.Line || r.Line < 1 || r.Line > len(lines) || r.Column < 1 {
		return true
	}
	start := lines[r.Line-1] + r.Column - 1
	end := start + len(r.Text)
	return end <= len(data) && string(data[start:end]) == r.Text
}

func newChange(r ref.Ref, e edit.Edit, from, to, version string) change {
	ch := change{File: r.File, Line: r.Line, Column: r.Column, Kind: r.Kind, Reference: display(r),
		Name: r.Name, Tag: r.Tag, From: from, To: to, Version: version, edit: e}
	if e.Span.Line != 0 && e.Span.Line != r.Line {
		ch.EditLine = e.Span.Line
	}
	return ch
}

// oneVariableRE matches a reference that is one variable: $IMG, ${IMG},
// ${IMG:-nginx:1}.
var oneVariableRE = regexp.MustCompile(`^\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*(?::?[-=?+][^}]*)?\})$`)

// precheck decides, from the reference alone, whether an operation
// applies to r. A false result with a reason is a skip worth telling the
// user; without one it is a reference the operation does not concern (an
// unpinned image for unpin).
func precheck(r ref.Ref, op rewriteOp) (reason string, ok bool) {
	switch {
	case r.Dynamic && r.NotEditable != "":
		return r.NotEditable, false
	case r.Dynamic:
		return "built from a variable with no static value", false
	case r.Edit == nil:
		if op == opPin && r.Digest != "" {
			return "", false
		}
		if r.NotEditable != "" {
			// The scanner knew: a default shared with a larger value,
			// a reference split by a line continuation …
			return r.NotEditable, false
		}
		if strings.Contains(r.Text, "$") {
			// A digest beside a template would not follow its variables:
			// a build with another value would still get this image.
			why := "it is assembled from variables (" + r.Text + "), so a digest here would not follow them"
			if oneVariableRE.MatchString(r.Text) {
				why = "its value comes from the variable " + r.Text + " (read as " + r.Short() + "), so a digest here would not follow it; pin the value where the variable is set"
			} else if r.Source == ref.SourceDockerfile {
				why += "; write the whole reference as one ARG default (ARG BASE=" + r.Short() + ", FROM ${BASE}) to pin it"
			}
			return why, false
		}
		return "cannot be edited in place (its value is not written here literally)", false
	}
	switch op {
	case opPin:
		if r.Digest != "" {
			return "", false
		}
		if r.Kind == ref.Image && r.Tag == "" {
			return "", false
		}
	case opUnpin:
		if r.Digest == "" {
			return "", false
		}
		if r.Tag == "" {
			if r.Kind == ref.Action {
				return "pinned to a commit without a version comment: no version to restore", false
			}
			return "pinned by digest only: there is no tag to fall back on", false
		}
	case opUpdate:
		if r.Digest == "" {
			return "", false
		}
		if r.Tag == "" {
			if r.Kind == ref.Action {
				return "pinned to a commit without a version comment: nothing to update from", false
			}
			return "pinned by digest only: there is no tag to update from", false
		}
	}
	return "", true
}

// applicable checks r's edit against the file's bytes.
func applicable(r ref.Ref, op rewriteOp, data []byte) (reason string, ok bool) {
	if err := edit.Validate(data, r); err != nil {
		return err.Error(), false
	}
	// Try the edit with a placeholder value: a span the editor cannot
	// rewrite (an empty tag that a chart fills from appVersion) is a skip,
	// not a reason to abandon every other pin.
	e, _ := edit.ForUnpin(r)
	if op != opUnpin {
		placeholder := "sha256:" + strings.Repeat("0", 64)
		if r.Kind == ref.Action {
			placeholder = strings.Repeat("0", 40)
		}
		e, _ = edit.ForPin(r, placeholder, r.Tag)
	}
	if err := edit.Check(data, e); err != nil {
		if e.Span.Start == e.Span.End && (e.Span.Form == ref.FormTag || e.Span.Form == ref.FormReference) {
			return "its tag is not written here (it comes from elsewhere, such as the chart's appVersion)", false
		}
		return "cannot be edited in place: " + unwrapped(err), false
	}
	return "", true
}

// unwrapped is an edit error without its position, which the skip names.
func unwrapped(err error) string {
	var e *edit.Error
	if errors.As(err, &e) {
		return e.Err.Error()
	}
	return err.Error()
}

// display is a reference as a person writes it: the text as written when
// it is a whole reference without variables, else its substituted short form
// (a Helm map's text is only its repository).
func display(r ref.Ref) string {
	if r.Name == "" {
		// Several lines (a block, a continuation) read as one.
		return strings.Join(strings.Fields(r.Text), " ")
	}
	last := r.Text[strings.LastIndexByte(r.Text, '/')+1:]
	if r.Text != "" && !strings.ContainsAny(r.Text, "$\n") && (r.Kind == ref.Action || strings.ContainsAny(last, ":@")) {
		return r.Text
	}
	if r.Tag == "" && r.Digest != "" && r.Kind == ref.Image {
		return ref.FamiliarName(r.Name) + "@" + r.Digest
	}
	return r.Short()
}

func (a *app) printSkips(skips []skip) {
	for _, s := range skips {
		fmt.Fprintf(a.stderr, "stet: warning: %s:%d: skipping %s: %s\n", s.File, s.Line, s.Reference, s.Reason)
	}
}

func (a *app) renderRewrite(w io.Writer, o rewriteOptions, res *rewriteResult) error {
	if res.Changes == nil {
		res.Changes = []change{}
	}
	if res.Skipped == nil {
		res.Skipped = []skip{}
	}
	if o.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	}
	a.printSkips(res.Skipped)
	verb := map[rewriteOp]string{opPin: "pinned", opUnpin: "unpinned", opUpdate: "updated"}[o.op]
	if o.format == explain.FormatMarkdown {
		if !res.DryRun {
			fmt.Fprintf(a.stderr, "%s %d reference(s) in %d file(s)\n", verb, len(res.Changes), res.Files)
		}
		return explain.Render(w, res.Explain, explain.FormatMarkdown)
	}
	for _, ch := range res.Changes {
		loc := fmt.Sprintf("%s:%d", ch.File, ch.Line)
		if ch.EditLine != 0 {
			loc += fmt.Sprintf(" (edited at line %d)", ch.EditLine)
		}
		switch o.op {
		case opUnpin:
			fmt.Fprintf(w, "%s: %s unpinned (was %s)\n", loc, short(ch), ch.From)
		case opUpdate:
			fmt.Fprintf(w, "%s: %s %s → %s\n", loc, short(ch), ch.From, ch.To)
		default:
			v := ""
			if ch.Version != "" && ch.Kind == ref.Action {
				v = " # " + ch.Version
			}
			fmt.Fprintf(w, "%s: %s → %s%s\n", loc, ch.Reference, ch.To, v)
		}
	}
	fmt.Fprintf(a.stderr, "%s %d reference(s) in %d file(s)\n", verb, len(res.Changes), res.Files)
	if res.Explain.Moved() {
		fmt.Fprintln(w)
		return explain.Render(w, res.Explain, explain.FormatText)
	}
	return nil
}

// short is name:tag for an update line: nginx:1-alpine, actions/checkout@v4.2.2.
func short(ch change) string {
	return ref.Ref{Kind: ch.Kind, Name: ch.Name, Tag: ch.Tag}.Short()
}

// scanFiles is the scan part of lock and verify: the walk, with parse
// errors reported on stderr and turned into exit code 2.
func (a *app) scanFiles(cmd *cobra.Command, paths []string) (*config.Config, *scan.Report, []ref.Ref, error) {
	c, err := a.loadConfig(paths)
	if err != nil {
		return nil, nil, nil, err
	}
	rep, err := a.walk(cmd, paths, c)
	if err != nil {
		return nil, nil, nil, err
	}
	if errs := inputErrors(rep); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintf(a.stderr, "stet: %v\n", e)
		}
		return nil, nil, nil, withCode(ExitUsage, fmt.Errorf("%d file(s) could not be parsed", len(errs)))
	}
	var refs []ref.Ref
	for _, f := range rep.Files {
		refs = append(refs, f.Refs...)
	}
	return c, rep, refs, nil
}

// gitToken is the token for actions in private repositories: STET_GIT_TOKEN,
// sent to whichever host actions.gitURL names; else GITHUB_TOKEN, but only
// to github.com, so that a token meant for GitHub never reaches another host.
func gitToken(gitURL string) string {
	if t := os.Getenv("STET_GIT_TOKEN"); t != "" {
		return t
	}
	if u, err := url.Parse(cmp.Or(gitURL, config.DefaultGitURL)); err == nil && u.Scheme == "https" && u.Host == "github.com" {
		return os.Getenv("GITHUB_TOKEN")
	}
	return ""
}
