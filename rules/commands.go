package rules

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// cmdFinding is a finding inside a script, at a byte offset of the script.
type cmdFinding struct {
	rule      string
	pos, end  int
	message   string
	reference string
}

// shells run their standard input as a script when given no script file.
var shells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true,
	"ksh": true, "mksh": true, "fish": true,
}

var interpreterRE = regexp.MustCompile(`^(sh|bash|dash|ash|zsh|ksh|mksh|fish|python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|php[0-9.]*|pwsh|powershell)$`)

// cmdName is the command a word runs: its last path element.
func cmdName(w word) string {
	return path.Base(strings.TrimSuffix(w.lit, ".exe"))
}

// wrappers run the command that follows their own options. For each, the
// options that take a separate argument.
var wrappers = map[string]string{
	"sudo":      "-u -g -h -p -C -D -r -t -U -T --user --group --host --prompt --close-from --chdir --role --type --other-user --command-timeout",
	"doas":      "-u -C",
	"env":       "-u -C -S --unset --chdir --split-string",
	"command":   "",
	"builtin":   "",
	"exec":      "-a",
	"nohup":     "",
	"time":      "-f -o --format --output",
	"nice":      "-n --adjustment",
	"ionice":    "-c -n -p -P -u --class --classdata --pid --pgid --uid",
	"stdbuf":    "-i -o -e --input --output --error",
	"timeout":   "-s -k --signal --kill-after",
	"eatmydata": "",
	"xargs":     "-a -d -E -e -I -i -L -l -n -P -s --arg-file --delimiter --eof --replace --max-lines --max-args --max-procs --max-chars --process-slot-var",
	"chronic":   "",
}

// unwrap strips wrappers (sudo, env X=1, nice, timeout 10 …) and returns the
// words of the command that really runs.
func unwrap(ws []word) []word {
	for range 8 {
		if len(ws) == 0 {
			return nil
		}
		name := cmdName(ws[0])
		withArg, ok := wrappers[name]
		if !ok || ws[0].expand {
			return ws
		}
		i := 1
		for i < len(ws) {
			a := ws[i].lit
			if a == "--" {
				i++
				break
			}
			if name == "env" && isAssignment(ws[i]) || name == "sudo" && isAssignment(ws[i]) {
				i++
				continue
			}
			if !strings.HasPrefix(a, "-") || a == "-" {
				break
			}
			if !strings.Contains(a, "=") && hasOpt(withArg, a) {
				i++
			}
			i++
		}
		if name == "timeout" && i < len(ws) {
			i++ // the duration
		}
		ws = ws[i:]
	}
	return ws
}

// hasOpt reports whether an option (or, for a cluster of short options, its
// last letter) is in the space-separated list.
func hasOpt(list, opt string) bool {
	if list == "" {
		return false
	}
	if !strings.HasPrefix(opt, "--") && len(opt) > 2 {
		opt = "-" + opt[len(opt)-1:]
	}
	for f := range strings.FieldsSeq(list) {
		if f == opt {
			return true
		}
	}
	return false
}

// readsStdinScript reports whether an interpreter, given these arguments,
// runs its standard input as a program.
func readsStdinScript(name string, args []word) bool {
	sh := shells[name]
	for i := 0; i < len(args); i++ {
		a := args[i].lit
		switch {
		case a == "-" || a == "--":
			return a == "-" || i+1 >= len(args)
		case name == "pwsh" || name == "powershell":
			// PowerShell reads a script from standard input only with
			// "-Command -" (or -c -); its other options vary too much
			// to judge.
			al := strings.ToLower(a)
			if al == "-command" || al == "-c" {
				return i+1 < len(args) && args[i+1].lit == "-"
			}
			if !strings.HasPrefix(a, "-") {
				return false
			}
		case !strings.HasPrefix(a, "-") && !(sh && strings.HasPrefix(a, "+")):
			return false // a script file, or a module or code argument's value
		case sh && !strings.HasPrefix(a, "--"):
			if strings.ContainsRune(a, 'c') {
				return false
			}
			if strings.ContainsRune(a, 's') {
				return true
			}
			if strings.HasSuffix(a, "o") || strings.HasSuffix(a, "O") {
				i++
			}
		case sh && (a == "--command" || a == "--rcfile" || a == "--init-file"):
			if a == "--command" {
				return false
			}
			i++
		case strings.HasPrefix(name, "python"):
			if strings.HasPrefix(a, "-c") || strings.HasPrefix(a, "-m") {
				return false
			}
			if a == "-W" || a == "-X" {
				i++
			}
		case strings.HasPrefix(name, "perl") || strings.HasPrefix(name, "ruby"):
			if strings.HasPrefix(a, "-e") || strings.HasPrefix(a, "-E") || (len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a[1:], "eE")) {
				return false
			}
		case name == "node" || name == "nodejs":
			if a == "-e" || a == "-p" || a == "--eval" || a == "--print" || strings.HasPrefix(a, "--eval=") || strings.HasPrefix(a, "--print=") {
				return false
			}
		case strings.HasPrefix(name, "php"):
			if a == "-r" || a == "-f" {
				return false
			}
		}
	}
	return true
}

// script is a parsed command text with the checks' shared state.
type script struct {
	cmds []*simpleCmd
}

// checkScript runs the command rules (STET020–STET025, STET027) over a
// shell script.
func checkScript(text string) []cmdFinding {
	out, _ := analyze(text)
	return out
}

// analyze runs the command rules over a script and reports whether it checks
// out a commit anywhere.
func analyze(text string) (out []cmdFinding, checksOut bool) {
	s := script{cmds: parseScript(text, 0, false)}
	checkout := s.lastCheckout()
	for i, c := range s.cmds {
		args := unwrap(c.words)
		if len(args) == 0 {
			continue
		}
		pos := args[0].pos
		end := args[len(args)-1].end
		add := func(rule, msg, ref string) {
			out = append(out, cmdFinding{rule: rule, pos: pos, end: end, message: msg, reference: ref})
		}
		name := cmdName(args[0])
		// tonistiigi/xx's cross-compilation wrappers take the same arguments.
		switch name {
		case "xx-apk", "xx-apt-get", "xx-apt", "xx-go":
			name = strings.TrimPrefix(name, "xx-")
		}
		switch {
		case name == "apt-get" || name == "apt" || name == "aptitude":
			if pkgs := aptUnpinned(args[1:]); len(pkgs) > 0 {
				add("STET020", name+" install of "+list(pkgs)+" without a version (pin with pkg=version)", strings.Join(pkgs, " "))
			}
		case name == "apk":
			if pkgs := apkUnpinned(args[1:]); len(pkgs) > 0 {
				add("STET021", "apk add of "+list(pkgs)+" without a version (pin with pkg=version or pkg~version)", strings.Join(pkgs, " "))
			}
		case isPip(name, args):
			if pkgs := pipUnpinned(name, args[1:]); len(pkgs) > 0 {
				add("STET022", "pip install of "+list(pkgs)+" without an exact version or hash (pin with pkg==version, or use -r with --require-hashes)", strings.Join(pkgs, " "))
			}
		case name == "npm" || name == "yarn" || name == "pnpm" || name == "bun":
			if pkgs := npmGlobalUnpinned(name, args[1:]); len(pkgs) > 0 {
				add("STET023", "global "+name+" install of "+list(pkgs)+" without a version (pin with pkg@version)", strings.Join(pkgs, " "))
			}
		case name == "go":
			for _, p := range goUnpinned(args[1:]) {
				add("STET024", p.verb+" "+p.pkg+" builds a moving version ("+p.why+"); name a full version such as @v1.2.3", p.pkg)
			}
		case name == "git":
			if url, why, ok := gitCloneUnpinned(args[1:]); ok && checkout < i {
				add("STET027", "git clone of "+url+" "+why+" without checking out a commit", url)
			}
		}
		if url, shell, ok := s.pipedToShell(c, args); ok {
			add("STET025", "remote script "+url+" is piped to "+shell+" without verification", url)
		}
		if url, shell, ok := redirectedToShell(c, args); ok {
			add("STET025", "remote script "+url+" is fed to "+shell+" without verification", url)
		}
		if url, shell, ok := substitutedToShell(args); ok {
			add("STET025", "remote script "+url+" is run by "+shell+" without verification", url)
		}
	}
	return out, checkout >= 0
}

// list quotes up to five names for a message.
func list(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + " and " + strconv.Itoa(len(names)-5) + " more"
	}
	return strings.Join(names, ", ")
}

// optsWithArg lists, per tool, the options that take a separate argument,
// so their values are not read as package names.
var (
	aptOpts = "-o -c -t -a --option --config-file --target-release --default-release --host-architecture"
	apkOpts = "-t -X -p --virtual --repository --root --arch --keys-dir --cache-dir --repositories-file --cache-max-age --timeout --progress-fd --wait"
	pipOpts = "-r -c -e -t -i -f -b -C --requirement --constraint --editable --target --prefix --root --index-url --extra-index-url --find-links " +
		"--trusted-host --platform --python-version --implementation --abi --src --upgrade-strategy --progress-bar --log --proxy --retries --timeout " +
		"--exists-action --cert --client-cert --cache-dir --no-binary --only-binary --global-option --config-settings --report --python " +
		"--root-user-action --use-feature --use-deprecated --keyring-provider --build --install-option --log-file --excludes-newer-than --exclude-newer " +
		"--group --extra --index --default-index --with --with-requirements --overrides"
	npmOpts   = "-w --prefix --registry --cache --userconfig --globalconfig --loglevel --workspace --location --omit --include --tag --before --install-strategy"
	goOpts    = "-C -p -tags -ldflags -gcflags -asmflags -mod -modfile -pkgdir -buildmode -compiler -gccgoflags -installsuffix -overlay -pgo -toolexec -coverpkg -covermode -exec -o"
	gitOpts   = "-C -c --git-dir --work-tree --namespace --exec-path --config-env --super-prefix"
	cloneOpts = "-b -o -u -c -j --branch --origin --upload-pack --reference --reference-if-able --separate-git-dir --config --depth --shallow-since " +
		"--shallow-exclude --jobs --filter --template --server-option --bundle-uri --ref-format --revision --recurse-submodules-default"
)

// operands returns the non-option words of args, skipping option values
// listed in withArg (the "--opt=value" form needs no skipping). After "--"
// every word is an operand.
func operands(args []word, withArg string) []word {
	var out []word
	for i := 0; i < len(args); i++ {
		a := args[i].lit
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 && !args[i].whole {
			if !strings.Contains(a, "=") && hasOpt(withArg, a) {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// hasFlag reports whether any of the options is given (also as --opt=value).
func hasFlag(args []word, opts ...string) bool {
	for _, w := range args {
		for _, o := range opts {
			if w.lit == o || strings.HasPrefix(w.lit, o+"=") {
				return true
			}
		}
	}
	return false
}

func isLocalPath(s string) bool {
	return strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") || strings.HasPrefix(s, "file:")
}

func aptUnpinned(args []word) []string {
	ops := operands(args, aptOpts)
	if len(ops) == 0 || ops[0].lit != "install" && ops[0].lit != "reinstall" {
		return nil
	}
	var out []string
	for _, w := range ops[1:] {
		p := w.lit
		switch {
		case strings.Contains(p, "="):
		case w.expand:
			// A variable's packages cannot be judged from here.
		case isLocalPath(p) || strings.HasSuffix(p, ".deb"):
		case strings.HasSuffix(p, "-") && len(p) > 1:
			// "pkg-" asks apt to remove pkg.
		case p == "":
		default:
			out = append(out, p)
		}
	}
	return out
}

func apkUnpinned(args []word) []string {
	ops := operands(args, apkOpts)
	if len(ops) == 0 || ops[0].lit != "add" {
		return nil
	}
	var out []string
	for _, w := range ops[1:] {
		p := w.lit
		name, op := p, ""
		if i := strings.IndexAny(p, "<>=~"); i > 0 {
			name, op = p[:i], p[i:]
			op = op[:len(op)-len(strings.TrimLeft(op, "<>=~"))]
		}
		switch {
		case op == "=" || op == "~" || op == "~=":
		case w.expand:
		case isLocalPath(p) || strings.HasSuffix(p, ".apk"):
		case name == "":
		default:
			out = append(out, p)
		}
	}
	return out
}

func isPip(name string, args []word) bool {
	switch {
	case pipRE.MatchString(name), name == "pipx":
		return true
	case name == "uv":
		return len(args) > 1 && args[1].lit == "pip"
	case strings.HasPrefix(name, "python") || name == "py":
		for i := 1; i+1 < len(args); i++ {
			if args[i].lit == "-m" {
				return args[i+1].lit == "pip"
			}
			if !strings.HasPrefix(args[i].lit, "-") {
				return false
			}
		}
	}
	return false
}

var (
	pipRE       = regexp.MustCompile(`^pip[0-9.]*$`)
	npmCommitRE = regexp.MustCompile(`#[0-9a-f]{7,40}$`)
	goPrefixRE  = regexp.MustCompile(`^v[0-9]+(\.[0-9]+)?$`)
	vcsCommitRE = regexp.MustCompile(`@[0-9a-f]{40}([#&]|$)`)
	hashFragRE  = regexp.MustCompile(`#(sha256|sha384|sha512)=[0-9a-f]+`)
)

func pipUnpinned(name string, args []word) []string {
	// Drop the interpreter's own options and "-m pip" / uv's "pip".
	for len(args) > 0 && args[0].lit != "install" {
		if name != "pipx" && !strings.HasPrefix(name, "pip") && (args[0].lit == "pip" || strings.HasPrefix(args[0].lit, "-")) {
			args = args[1:]
			continue
		}
		break
	}
	ops := operands(args, pipOpts)
	if len(ops) == 0 || ops[0].lit != "install" {
		return nil
	}
	if hasFlag(args, "--require-hashes", "-c", "--constraint") {
		return nil
	}
	var out []string
	for _, w := range ops[1:] {
		p := w.lit
		switch {
		case strings.Contains(p, "=="):
		case w.expand:
		case strings.Contains(p, "://") && !strings.HasPrefix(p, "file:") || strings.HasPrefix(p, "git+"):
			// A download or VCS checkout is fixed only by a commit or a
			// hash fragment.
			if !vcsCommitRE.MatchString(p) && !hashFragRE.MatchString(p) {
				out = append(out, p)
			}
		case isLocalPath(p) || strings.HasSuffix(p, ".whl") || strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".zip"):
		case p == "" || p == "@":
		default:
			out = append(out, p)
		}
	}
	return out
}

// npmSubcommands are the install verbs (npm accepts its aliases and typos).
var npmInstall = map[string]bool{
	"install": true, "i": true, "in": true, "ins": true, "inst": true, "insta": true, "instal": true,
	"isnt": true, "isnta": true, "isntal": true, "isntall": true, "add": true,
}

var exactishRE = regexp.MustCompile(`^[=v]?[0-9]`)

func npmGlobalUnpinned(name string, args []word) []string {
	ops := operands(args, npmOpts)
	if len(ops) == 0 {
		return nil
	}
	switch name {
	case "yarn":
		if len(ops) < 2 || ops[0].lit != "global" || ops[1].lit != "add" {
			return nil
		}
		ops = ops[2:]
	default:
		if !npmInstall[ops[0].lit] || name != "npm" && ops[0].lit != "add" && ops[0].lit != "install" && ops[0].lit != "i" {
			return nil
		}
		if !hasFlag(args, "-g", "--global") && !hasFlag(args, "--location") {
			return nil
		}
		if hasFlag(args, "--location") && !hasFlagValue(args, "--location", "global") {
			return nil
		}
		ops = ops[1:]
	}
	var out []string
	for _, w := range ops {
		p := w.lit
		at := strings.LastIndexByte(p, '@')
		version := ""
		if at > 0 {
			version = p[at+1:]
		}
		switch {
		case at > 0 && exactishRE.MatchString(version):
		case w.expand:
		case isLocalPath(p) || strings.HasSuffix(p, ".tgz") || strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://"):
		case strings.Contains(p, "#"):
			// git and GitHub specs: a commit after # is immutable.
			if !npmCommitRE.MatchString(p) {
				out = append(out, p)
			}
		case p == "":
		default:
			out = append(out, p)
		}
	}
	return out
}

func hasFlagValue(args []word, opt, value string) bool {
	for i, w := range args {
		if w.lit == opt+"="+value || w.lit == opt && i+1 < len(args) && args[i+1].lit == value {
			return true
		}
	}
	return false
}

type goPkg struct{ verb, pkg, why string }

var (
	semverRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	hexRE    = regexp.MustCompile(`^[0-9a-f]{7,64}$`)
)

func goUnpinned(args []word) []goPkg {
	ops := operands(args, goOpts)
	if len(ops) == 0 || ops[0].lit != "install" && ops[0].lit != "run" {
		return nil
	}
	verb := "go " + ops[0].lit
	pkgs := ops[1:]
	if ops[0].lit == "run" && len(pkgs) > 0 {
		pkgs = pkgs[:1] // the rest are the program's arguments
	}
	var out []goPkg
	for _, w := range pkgs {
		p := w.lit
		at := strings.LastIndexByte(p, '@')
		if at <= 0 || w.expand {
			continue
		}
		v := p[at+1:]
		why := ""
		switch {
		case semverRE.MatchString(v), hexRE.MatchString(v):
			continue
		case v == "latest", v == "upgrade", v == "patch":
			why = "@" + v
		case goPrefixRE.MatchString(v):
			why = "@" + v + " is a version prefix"
		case strings.ContainsAny(v, "<>"):
			why = "@" + v + " is a version range"
		default:
			why = "@" + v + " is a branch or tag"
		}
		out = append(out, goPkg{verb: verb, pkg: p, why: why})
	}
	return out
}

// gitCloneUnpinned reports a git clone and what it checks out.
func gitCloneUnpinned(args []word) (url, why string, ok bool) {
	ops := operands(args, gitOpts)
	if len(ops) == 0 || ops[0].lit != "clone" {
		return "", "", false
	}
	var rest []word
	for i, w := range args {
		if w.pos == ops[0].pos {
			rest = args[i+1:]
			break
		}
	}
	for i := range rest {
		if v, ok := optValue(rest, i, "--revision"); ok && (hexRE.MatchString(v) || strings.Contains(v, "$")) {
			return "", "", false
		}
	}
	cops := operands(rest, cloneOpts)
	if len(cops) == 0 {
		return "", "", false
	}
	url = cops[0].lit
	if !cops[0].expand && !isRemoteGit(url) {
		return "", "", false // a clone of a local repository fetches nothing
	}
	why = "(default branch)"
	for i := range rest {
		for _, o := range []string{"-b", "--branch", "--revision"} {
			if v, ok := optValue(rest, i, o); ok {
				why = "at " + v
			}
		}
	}
	return url, why, true
}

// isRemoteGit reports a repository URL that git fetches over the network:
// scheme://…, or the scp-like user@host:path (a colon before any slash).
func isRemoteGit(u string) bool {
	if strings.Contains(u, "://") {
		return !strings.HasPrefix(u, "file://")
	}
	c := strings.IndexByte(u, ':')
	return c > 0 && !strings.Contains(u[:c], "/")
}

// optValue returns the value of option o at args[i] ("-o v", "-ov", "--o=v").
func optValue(args []word, i int, o string) (string, bool) {
	a := args[i].lit
	switch {
	case a == o && i+1 < len(args):
		return args[i+1].lit, true
	case strings.HasPrefix(o, "--") && strings.HasPrefix(a, o+"="):
		return a[len(o)+1:], true
	case !strings.HasPrefix(o, "--") && strings.HasPrefix(a, o) && len(a) > len(o) && !strings.HasPrefix(a, "--"):
		return a[len(o):], true
	}
	return "", false
}

// lastCheckout returns the index of the last command that checks out a
// commit: git checkout/switch/reset of a hex commit, FETCH_HEAD or a variable
// (assumed to hold a commit); -1 when there is none. A clone before it is
// taken as pinned.
func (s script) lastCheckout() int {
	for i := len(s.cmds) - 1; i >= 0; i-- {
		args := unwrap(s.cmds[i].words)
		if len(args) == 0 || cmdName(args[0]) != "git" {
			continue
		}
		ops := operands(args[1:], gitOpts+" -b -B --orphan")
		if len(ops) < 2 {
			continue
		}
		switch ops[0].lit {
		case "checkout", "switch", "reset":
		default:
			continue
		}
		for _, w := range ops[1:] {
			if w.lit == "--" {
				break
			}
			if hexRE.MatchString(w.lit) || w.lit == "FETCH_HEAD" || w.expand {
				return i
			}
		}
	}
	return -1
}

// Short options of curl and wget that take an argument (the rest of the
// cluster, or the next word).
const (
	curlArgLetters = "AbcCdDeEFHKmoPQrtTuUwxXyYz"
	wgetArgLetters = "OoaiPetTwQUBlARDIX"
)

// fetchURL reports whether a command downloads to standard output (curl
// without -o/-O, wget -O -) and returns the first URL it names.
func fetchURL(args []word) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	name := cmdName(args[0])
	if name != "curl" && name != "wget" {
		return "", false
	}
	toStdout := name == "curl"
	setOut := func(v string) { toStdout = v == "-" || v == "/dev/stdout" }
	url := ""
	for i := 1; i < len(args); i++ {
		a := args[i].lit
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i].lit
			}
			return ""
		}
		switch {
		case !strings.HasPrefix(a, "-") || a == "-":
			if url == "" && (strings.Contains(a, "://") || args[i].expand || strings.Contains(a, ".")) {
				url = a
			}
		case a == "--":
		case strings.HasPrefix(a, "--"):
			opt, val, hasVal := strings.Cut(a, "=")
			switch {
			case name == "curl" && opt == "--output", name == "wget" && opt == "--output-document":
				if !hasVal {
					val = next()
				}
				setOut(val)
			case name == "curl" && (opt == "--remote-name" || opt == "--remote-name-all"):
				toStdout = false
			case !hasVal && name == "curl" && curlLongWithArg[opt]:
				next()
			}
		case name == "wget" && len(a) == 3 && a[1] == 'n':
			// -nv, -nc, -nd, -nH, -np: flags without arguments.
		default:
			letters := curlArgLetters
			if name == "wget" {
				letters = wgetArgLetters
			}
			for k := 1; k < len(a); k++ {
				l := a[k]
				if name == "curl" && l == 'O' {
					toStdout = false
					continue
				}
				if strings.IndexByte(letters, l) < 0 {
					continue
				}
				val := a[k+1:]
				if val == "" {
					val = next()
				}
				if name == "curl" && l == 'o' || name == "wget" && l == 'O' {
					setOut(val)
				}
				break
			}
		}
	}
	if url == "" {
		url = "(unknown URL)"
	}
	return url, toStdout
}

// curlLongWithArg are curl's common long options that take a separate value.
var curlLongWithArg = map[string]bool{
	"--header": true, "--user-agent": true, "--user": true, "--data": true, "--data-raw": true, "--data-binary": true,
	"--request": true, "--max-time": true, "--connect-timeout": true, "--retry": true, "--retry-delay": true,
	"--retry-max-time": true, "--proxy": true, "--cacert": true, "--cert": true, "--key": true, "--write-out": true,
	"--referer": true, "--cookie": true, "--form": true, "--range": true, "--resolve": true, "--config": true,
	"--proto": true, "--proto-redir": true, "--tlsv1.2": false, "--limit-rate": true, "--netrc-file": true, "--dump-header": true,
}

// pipedToShell finds "curl … | sh": a download to standard output piped,
// possibly through other commands, into an interpreter that runs its input.
func (s script) pipedToShell(c *simpleCmd, args []word) (url, shell string, ok bool) {
	if c.pipe == nil {
		return "", "", false
	}
	url, ok = fetchURL(args)
	if !ok {
		return "", "", false
	}
	for _, next := range c.pipe.cmds[c.idx+1:] {
		nargs := unwrap(next.words)
		if len(nargs) == 0 {
			continue
		}
		n := cmdName(nargs[0])
		if interpreterRE.MatchString(n) && readsStdinScript(n, nargs[1:]) {
			return url, n, true
		}
	}
	return "", "", false
}

// substitutedToShell finds "bash <(curl …)", "sh -c "$(curl …)"",
// "eval "$(wget -O- …)"" and "source <(curl …)": a download substituted
// where an interpreter takes its program.
func substitutedToShell(args []word) (url, shell string, ok bool) {
	if len(args) < 2 {
		return "", "", false
	}
	n := cmdName(args[0])
	w, ok := programWord(n, args[1:])
	if !ok || !w.whole || len(w.subs) != 1 {
		return "", "", false
	}
	for _, c := range parseScript(w.subs[0].text, 0, false) {
		if u, ok := fetchURL(unwrap(c.words)); ok {
			return u, n, true
		}
	}
	return "", "", false
}

// redirectedToShell finds "bash < <(curl …)" and "sh <<< "$(curl …)"": a
// download redirected into an interpreter that runs its standard input.
func redirectedToShell(c *simpleCmd, args []word) (url, shell string, ok bool) {
	if len(c.stdin) == 0 || len(args) == 0 {
		return "", "", false
	}
	n := cmdName(args[0])
	if !interpreterRE.MatchString(n) || !readsStdinScript(n, args[1:]) {
		return "", "", false
	}
	for _, w := range c.stdin {
		if !w.whole || len(w.subs) != 1 {
			continue
		}
		for _, sc := range parseScript(w.subs[0].text, 0, false) {
			if u, ok := fetchURL(unwrap(sc.words)); ok {
				return u, n, true
			}
		}
	}
	return "", "", false
}

// programWord returns the argument an interpreter runs as its program: the
// value of -c (shells, python), -e (perl, ruby, node), or the first operand
// (a script file); for eval, source and "." the first argument.
func programWord(name string, args []word) (word, bool) {
	switch {
	case name == "eval" || name == "source" || name == ".":
		if len(args) > 0 {
			return args[0], true
		}
		return word{}, false
	case !interpreterRE.MatchString(name):
		return word{}, false
	}
	sh := shells[name]
	for i := 0; i < len(args); i++ {
		a := args[i].lit
		if !strings.HasPrefix(a, "-") || a == "-" || args[i].whole {
			return args[i], true
		}
		code := false
		switch {
		case strings.HasPrefix(a, "--"):
			code = a == "--command" || a == "--eval"
		case sh:
			code = strings.ContainsRune(a, 'c')
			if !code && (strings.HasSuffix(a, "o") || strings.HasSuffix(a, "O")) {
				i++
				continue
			}
		default:
			code = strings.ContainsAny(a[1:], "ceE")
		}
		if code {
			if i+1 < len(args) {
				return args[i+1], true
			}
			return word{}, false
		}
	}
	return word{}, false
}
