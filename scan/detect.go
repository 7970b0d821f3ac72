package scan

import (
	"bytes"
	"path"
	"regexp"
	"strings"

	"github.com/stet-dev/stet/ref"
)

// Candidate is returned by Detect for YAML files that are not recognised by
// name: they are read as Kubernetes manifests, and their content decides.
const Candidate = ref.SourceKube

// notDockerfile lists extensions that make "Dockerfile.<ext>" a different
// kind of file (documentation, templates' outputs, ignore files).
var notDockerfile = map[string]bool{
	"md": true, "txt": true, "dockerignore": true, "json": true, "yaml": true,
	"yml": true, "sh": true, "go": true, "py": true, "orig": true, "rej": true,
	"bak": true, "swp": true, "html": true, "rst": true, "j2": true, "tmpl": true,
	"tpl": true, "template": true, "in": true,
}

var (
	composeServicesRE = regexp.MustCompile(`(?m)^services:[ \t]*(?:#.*)?\r?$`)
	kubeKeysRE        = regexp.MustCompile(`(?m)^(?:apiVersion|kind):`)
)

// Sniff names the format of a YAML file whose name did not (Candidate)
// from its content: ref.SourceCompose for a compose file under another name
// (stack.yml, an override such as etherpad.yml): a top-level services:
// mapping (a GitLab CI fragment's services: is a list) and no Kubernetes
// apiVersion or kind. "" leaves it a Candidate.
func Sniff(data []byte) string {
	loc := composeServicesRE.FindIndex(data)
	if loc == nil || kubeKeysRE.Match(data) {
		return ""
	}
	// The first entry under services: must be an indented mapping key.
	for rest := data[loc[1]:]; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		t := bytes.TrimLeft(line, " \t")
		switch {
		case len(bytes.TrimSpace(t)) == 0 || t[0] == '#':
			continue
		case len(t) == len(line) || t[0] == '-':
			return "" // not indented, or a list
		}
		if bytes.Contains(t, []byte(":")) {
			return ref.SourceCompose
		}
		return ""
	}
	return ""
}

// Detect names the format of the file at slash path p from its name alone:
// a ref.Source* constant, Candidate for other YAML, or "" when stet does not
// read it. inChart says the file's directory holds a Chart.yaml.
func Detect(p string, inChart bool) string {
	base := path.Base(p)
	lower := strings.ToLower(base)
	ext := ""
	if i := strings.LastIndexByte(lower, '.'); i >= 0 {
		ext = lower[i+1:]
	}
	switch {
	case lower == "dockerfile" || lower == "containerfile":
		return ref.SourceDockerfile
	case strings.HasPrefix(lower, "dockerfile.") || strings.HasPrefix(lower, "containerfile."):
		if notDockerfile[ext] {
			return ""
		}
		return ref.SourceDockerfile
	case ext == "dockerfile" || ext == "containerfile":
		return ref.SourceDockerfile
	}
	if ext != "yaml" && ext != "yml" {
		return ""
	}
	stem := lower[:len(lower)-len(ext)-1]
	dir := path.Dir(p)
	switch {
	case stem == ".gitlab-ci" || strings.HasSuffix(stem, ".gitlab-ci") || strings.HasSuffix(dir, ".gitlab/ci") || strings.Contains(dir, ".gitlab/ci/"):
		return ref.SourceGitLab
	case path.Base(dir) == "workflows" && path.Base(path.Dir(dir)) == ".github":
		return ref.SourceActions
	case stem == "action":
		return ref.SourceActions
	case strings.HasPrefix(stem, "compose") || strings.HasPrefix(stem, "docker-compose"):
		return ref.SourceCompose
	case stem == "kustomization":
		return ref.SourceKustomize
	case inChart && strings.HasPrefix(stem, "values"):
		return ref.SourceHelm
	case inChart && (stem == "chart" || stem == "values.schema"):
		return ""
	}
	return Candidate
}
