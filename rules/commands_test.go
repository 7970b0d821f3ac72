package rules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hit is a command finding reduced to what the table tests compare.
type hit struct {
	Rule, Ref string
	At        string // the script text the finding covers
}

func hits(text string) []hit {
	var out []hit
	for _, f := range checkScript(text) {
		out = append(out, hit{Rule: f.rule, Ref: f.reference, At: text[f.pos:f.end]})
	}
	return out
}

func TestCheckScript(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []hit
	}{
		// STET020 apt
		{"apt unpinned", "apt-get update && apt-get install -y --no-install-recommends curl ca-certificates",
			[]hit{{"STET020", "curl ca-certificates", "apt-get install -y --no-install-recommends curl ca-certificates"}}},
		{"apt pinned", "apt-get install -y curl=7.88.1-10+deb12u8 ca-certificates=20230311", nil},
		{"apt mixed", "apt-get install -y curl=7.88 wget", []hit{{"STET020", "wget", "apt-get install -y curl=7.88 wget"}}},
		{"apt options with values", "apt-get -o Dpkg::Options::=--force-confold -t bookworm-backports install -y -q foo=1", nil},
		{"apt -o after install", "apt-get install -o Dpkg::Options::=--force-confnew -y foo=1", nil},
		{"apt update only", "apt-get update && apt-get upgrade -y && apt-get dist-upgrade", nil},
		{"apt variable skipped", `apt-get install -y $buildDeps "${PKGS}"`, nil},
		{"apt version from variable", `apt-get install -y "nginx=${NGINX_VERSION}"`, nil},
		{"apt local deb", "apt-get install -y ./pkg.deb /tmp/x.deb", nil},
		{"apt removal suffix", "apt-get install -y foo=1 bar-", nil},
		{"apt with sudo and env", "sudo -E DEBIAN_FRONTEND=noninteractive apt-get -qq install -y git",
			[]hit{{"STET020", "git", "apt-get -qq install -y git"}}},
		{"apt after env", "env DEBIAN_FRONTEND=noninteractive apt install vim",
			[]hit{{"STET020", "vim", "apt install vim"}}},
		{"apt assignment prefix", "DEBIAN_FRONTEND=noninteractive apt-get install -y make",
			[]hit{{"STET020", "make", "apt-get install -y make"}}},
		{"apt continuation", "apt-get update \\\n  && apt-get install -y \\\n    curl \\\n    git=1:2.39",
			[]hit{{"STET020", "curl", "apt-get install -y \\\n    curl \\\n    git=1:2.39"}}},
		{"apt in subshell and if", "if true; then (apt-get install -y jq); fi", []hit{{"STET020", "jq", "apt-get install -y jq"}}},
		{"apt quoted package", `apt-get install -y "jq"`, []hit{{"STET020", "jq", `apt-get install -y "jq"`}}},
		{"apt in command substitution", `x="$(apt-get install -y jq)"`, []hit{{"STET020", "jq", "apt-get install -y jq"}}},
		{"apt commented out", "# apt-get install -y jq\necho ok", nil},
		{"apt in echo string", `echo "apt-get install -y jq"`, nil},
		{"apt in heredoc file", "cat > /usr/local/bin/setup <<'EOF'\napt-get install -y jq\nEOF\necho done", nil},
		{"apt in heredoc script", "<<EOF\nset -e\napt-get install -y jq\nEOF", []hit{{"STET020", "jq", "apt-get install -y jq"}}},
		{"apt in bash heredoc", "bash -ex <<-EOF\n\tapt-get install -y jq\n\tEOF\n", []hit{{"STET020", "jq", "apt-get install -y jq"}}},
		{"apt in sh -c", `sh -c 'apt-get install -y jq'`, []hit{{"STET020", "jq", "apt-get install -y jq"}}},
		{"apt in case", "case \"$arch\" in\n amd64|x86_64) apt-get install -y jq ;;\n *) exit 1 ;;\nesac",
			[]hit{{"STET020", "jq", "apt-get install -y jq"}}},
		{"apt xargs", "xargs -r apt-get install -y < pkgs.txt", nil},
		{"apt xargs with package", "echo | xargs -r apt-get install -y vim", []hit{{"STET020", "vim", "apt-get install -y vim"}}},
		{"aptitude", "aptitude install -y vim", []hit{{"STET020", "vim", "aptitude install -y vim"}}},
		{"apt many packages", "apt-get install -y a b c d e f g",
			[]hit{{"STET020", "a b c d e f g", "apt-get install -y a b c d e f g"}}},
		{"apt for loop", "for i in 1 2; do apt-get install -y jq; done", []hit{{"STET020", "jq", "apt-get install -y jq"}}},
		{"apt redirect", "apt-get install -y jq > /dev/null 2>&1", []hit{{"STET020", "jq", "apt-get install -y jq"}}},

		// STET021 apk
		{"apk unpinned", "apk add --no-cache --virtual .build-deps gcc musl-dev",
			[]hit{{"STET021", "gcc musl-dev", "apk add --no-cache --virtual .build-deps gcc musl-dev"}}},
		{"apk pinned", "apk add --no-cache gcc=14.2.0-r4 musl-dev~1.2 curl~=8", nil},
		{"apk virtual equals", "apk add --virtual=.deps -t .x --repository http://dl-cdn.alpinelinux.org/alpine/edge/testing foo=1", nil},
		{"apk lower bound", "apk add 'curl>8'", []hit{{"STET021", "curl>8", "apk add 'curl>8'"}}},
		{"apk update upgrade", "apk update && apk upgrade --no-cache && apk del .build-deps", nil},
		{"apk variable", "apk add --no-cache $PKGS", nil},
		{"apk local file", "apk add --allow-untrusted /tmp/pkg.apk", nil},

		// STET022 pip
		{"pip unpinned", "pip install --no-cache-dir requests 'flask>=3'",
			[]hit{{"STET022", "requests flask>=3", "pip install --no-cache-dir requests 'flask>=3'"}}},
		{"pip pinned", "pip3 install requests==2.32.3 'flask[async]==3.0.0'", nil},
		{"pip requirements", "pip install -r requirements.txt --no-cache-dir", nil},
		{"pip requirements and a package", "pip install -r requirements.txt gunicorn",
			[]hit{{"STET022", "gunicorn", "pip install -r requirements.txt gunicorn"}}},
		{"pip require hashes", "pip install --require-hashes gunicorn", nil},
		{"pip constraints", "pip install -c constraints.txt gunicorn", nil},
		{"pip local", "pip install -e . && pip install ./dist/app-1.0-py3-none-any.whl /src", nil},
		{"python -m pip", "python3 -m pip install --upgrade pip",
			[]hit{{"STET022", "pip", "python3 -m pip install --upgrade pip"}}},
		{"python -m other", "python3 -m venv /venv", nil},
		{"uv pip", "uv pip install --system ruff", []hit{{"STET022", "ruff", "uv pip install --system ruff"}}},
		{"pip vcs pinned", "pip install git+https://github.com/a/b.git@0123456789abcdef0123456789abcdef01234567", nil},
		{"pip vcs branch", "pip install git+https://github.com/a/b.git@main",
			[]hit{{"STET022", "git+https://github.com/a/b.git@main", "pip install git+https://github.com/a/b.git@main"}}},
		{"pip url without hash", "pip install https://example.com/a-1.0.tar.gz",
			[]hit{{"STET022", "https://example.com/a-1.0.tar.gz", "pip install https://example.com/a-1.0.tar.gz"}}},
		{"pip url hash", "pip install https://example.com/a-1.0.tar.gz#sha256=0123abcd", nil},
		{"pip index url value", "pip install -i https://pypi.example.com/simple foo==1", nil},
		{"pip list", "pip list && pip freeze", nil},

		// STET023 npm
		{"npm global", "npm install -g typescript pnpm@latest @angular/cli",
			[]hit{{"STET023", "typescript pnpm@latest @angular/cli", "npm install -g typescript pnpm@latest @angular/cli"}}},
		{"npm global pinned", "npm i --global typescript@5.6.3 @angular/cli@17.0.0 corepack@v0.29.4", nil},
		{"npm local install", "npm install && npm ci && npm install express", nil},
		{"npm range", "npm install -g npm@^10", []hit{{"STET023", "npm@^10", "npm install -g npm@^10"}}},
		{"yarn global", "yarn global add serve", []hit{{"STET023", "serve", "yarn global add serve"}}},
		{"yarn local", "yarn add serve && yarn install --frozen-lockfile", nil},
		{"pnpm global", "pnpm add -g serve@14.2.1 nodemon", []hit{{"STET023", "nodemon", "pnpm add -g serve@14.2.1 nodemon"}}},
		{"bun global", "bun add --global prettier", []hit{{"STET023", "prettier", "bun add --global prettier"}}},
		{"npm location global", "npm install --location=global zx", []hit{{"STET023", "zx", "npm install --location=global zx"}}},
		{"npm global local path", "npm install -g . ./tool.tgz", nil},

		// STET024 go
		{"go install latest", "go install golang.org/x/tools/gopls@latest",
			[]hit{{"STET024", "golang.org/x/tools/gopls@latest", "go install golang.org/x/tools/gopls@latest"}}},
		{"go install pinned", "go install golang.org/x/tools/gopls@v0.16.2 github.com/a/b@v0.0.0-20240101000000-0123456789ab", nil},
		{"go install branch", "go install -v github.com/a/b/cmd/c@main",
			[]hit{{"STET024", "github.com/a/b/cmd/c@main", "go install -v github.com/a/b/cmd/c@main"}}},
		{"go install prefix", "go install github.com/a/b@v1", []hit{{"STET024", "github.com/a/b@v1", "go install github.com/a/b@v1"}}},
		{"go install local", "go install ./... && go install -ldflags '-s -w' ./cmd/x", nil},
		{"go install variable", "go install github.com/a/b@${B_VERSION}", nil},
		{"go run latest", "go run github.com/a/b@latest --flag x@latest",
			[]hit{{"STET024", "github.com/a/b@latest", "go run github.com/a/b@latest --flag x@latest"}}},
		{"go build", "go build -o /out ./cmd/x@latest", nil},

		// STET025 remote script to shell
		{"curl pipe sh", "curl -fsSL https://get.example.com | sh",
			[]hit{{"STET025", "https://get.example.com", "curl -fsSL https://get.example.com"}}},
		{"wget pipe bash", "wget -qO- https://x.example/install.sh | bash -s -- --yes",
			[]hit{{"STET025", "https://x.example/install.sh", "wget -qO- https://x.example/install.sh"}}},
		{"wget -O - pipe sudo", "wget -O - https://x.example/i.sh | sudo -E bash -",
			[]hit{{"STET025", "https://x.example/i.sh", "wget -O - https://x.example/i.sh"}}},
		{"curl to file", "curl -fsSLo /tmp/i.sh https://x.example/i.sh && sh /tmp/i.sh", nil},
		{"curl remote name", "curl -fsSLO https://x.example/i.sh | sh", nil},
		{"curl pipe tar", "curl -fsSL https://x.example/a.tgz | tar -xz -C /usr/local", nil},
		{"curl pipe gpg", "curl -fsSL https://x.example/key.asc | gpg --dearmor -o /usr/share/keyrings/x.gpg", nil},
		{"wget to file pipe", "wget https://x.example/i.sh | sh", nil},
		{"curl pipe python", "curl -sSL https://install.python-poetry.org | python3 -",
			[]hit{{"STET025", "https://install.python-poetry.org", "curl -sSL https://install.python-poetry.org"}}},
		{"curl pipe python -c", `curl -s https://api.example/x | python3 -c "import json,sys; print(json.load(sys.stdin))"`, nil},
		{"curl pipe json.tool", "curl -s https://api.example/x | python3 -m json.tool", nil},
		{"curl pipe perl filter", "curl -s https://api.example/x | perl -pe 's/a/b/'", nil},
		{"curl pipe perl", "curl -L https://cpanmin.us | perl - App::cpanminus",
			[]hit{{"STET025", "https://cpanmin.us", "curl -L https://cpanmin.us"}}},
		{"curl pipe pwsh", "curl -s https://x.example/i.ps1 | pwsh -NoProfile -Command -",
			[]hit{{"STET025", "https://x.example/i.ps1", "curl -s https://x.example/i.ps1"}}},
		{"curl pipe pwsh file", "curl -s https://x.example/v | pwsh -ExecutionPolicy Bypass -File ./check.ps1", nil},
		{"curl pipe bash -c", "curl -s https://x.example/v | bash -c 'cat > /tmp/v'", nil},
		{"curl pipe jq", "curl -s https://api.example/x | jq -r .tag_name", nil},
		{"curl through tee", "curl -fsSL https://x.example/i.sh | tee /tmp/i.sh | sh",
			[]hit{{"STET025", "https://x.example/i.sh", "curl -fsSL https://x.example/i.sh"}}},
		{"bash process substitution", "bash <(curl -fsSL https://x.example/i.sh)",
			[]hit{{"STET025", "https://x.example/i.sh", "bash <(curl -fsSL https://x.example/i.sh)"}}},
		{"sh -c command substitution", `sh -c "$(curl -fsSL https://x.example/i.sh)" "" --unattended`,
			[]hit{{"STET025", "https://x.example/i.sh", `sh -c "$(curl -fsSL https://x.example/i.sh)" "" --unattended`}}},
		{"eval command substitution", `eval "$(wget -qO- https://x.example/env)"`,
			[]hit{{"STET025", "https://x.example/env", `eval "$(wget -qO- https://x.example/env)"`}}},
		{"here-string", `bash <<< "$(curl -fsSL https://x.example/i.sh)"`,
			[]hit{{"STET025", "https://x.example/i.sh", `bash`}}},
		{"redirected process substitution", "sudo bash < <(wget -qO- https://x.example/i.sh)",
			[]hit{{"STET025", "https://x.example/i.sh", `bash`}}},
		{"redirected file", "bash < install.sh && jq . < <(curl -s https://x.example/v)", nil},
		{"script with downloaded argument", `bash build.sh "$(curl -s https://x.example/v)"`, nil},
		{"curl header value", `curl -H "Accept: x" -fsSL https://x.example/i.sh | sh`,
			[]hit{{"STET025", "https://x.example/i.sh", `curl -H "Accept: x" -fsSL https://x.example/i.sh`}}},
		{"curl request with attached value", "curl -XPOST https://x.example/i.sh | sh",
			[]hit{{"STET025", "https://x.example/i.sh", "curl -XPOST https://x.example/i.sh"}}},
		{"curl in sh -c pipe", `sh -c 'curl -fsSL https://x.example/i.sh | sh'`,
			[]hit{{"STET025", "https://x.example/i.sh", "curl -fsSL https://x.example/i.sh"}}},
		{"pipe to sh in comment", "echo ok # curl https://x.example | sh", nil},

		// STET027 git clone
		{"git clone default", "git clone https://github.com/a/b.git /src/b",
			[]hit{{"STET027", "https://github.com/a/b.git", "git clone https://github.com/a/b.git /src/b"}}},
		{"git clone branch", "git clone --depth 1 --branch v1.2.0 https://github.com/a/b.git",
			[]hit{{"STET027", "https://github.com/a/b.git", "git clone --depth 1 --branch v1.2.0 https://github.com/a/b.git"}}},
		{"git clone then checkout sha", "git clone https://github.com/a/b.git && cd b && git checkout 3f1c8e9d6b2a4c7e8f9a0b1c2d3e4f5a6b7c8d9e", nil},
		{"git clone then -C checkout", "git clone -q https://github.com/a/b.git /b; git -C /b -c advice.detachedHead=false checkout -q 3f1c8e9", nil},
		{"git clone then reset", "git clone https://github.com/a/b.git\ncd b\ngit reset --hard \"$COMMIT\"", nil},
		{"git clone then fetch head", "git clone https://x/b.git && git -C b fetch origin $SHA && git -C b checkout FETCH_HEAD", nil},
		{"git clone then checkout tag", "git clone https://github.com/a/b.git && git -C b checkout v1.0.0",
			[]hit{{"STET027", "https://github.com/a/b.git", "git clone https://github.com/a/b.git"}}},
		{"git clone revision", "git clone --revision=3f1c8e9d6b2a4c7e8f9a0b1c2d3e4f5a6b7c8d9e https://x/b.git", nil},
		{"git clone global opts", "git -c http.sslVerify=false clone --recursive -b main https://x/b.git",
			[]hit{{"STET027", "https://x/b.git", "git -c http.sslVerify=false clone --recursive -b main https://x/b.git"}}},
		{"git clone local", "git clone -b 1.0 . branch-1.0 && git clone cache/x.git tests/x && git clone file:///srv/x.git", nil},
		{"git clone scp-like", "git clone git@github.com:a/b.git",
			[]hit{{"STET027", "git@github.com:a/b.git", "git clone git@github.com:a/b.git"}}},
		{"git clone variable", `git clone "$REPO" src`, []hit{{"STET027", "$REPO", `git clone "$REPO" src`}}},
		{"xx wrappers", "xx-apk add musl-dev && xx-go install a.example/b@latest",
			[]hit{{"STET021", "musl-dev", "xx-apk add musl-dev"}, {"STET024", "a.example/b@latest", "xx-go install a.example/b@latest"}}},
		{"git other", "git config --global user.name x && git fetch && git log", nil},

		// Robustness: nothing to find, no panic.
		{"empty", "", nil},
		{"unterminated quote", `apt-get install "jq`, []hit{{"STET020", "jq", `apt-get install "jq`}}},
		{"unterminated substitution", "echo $(apt-get install jq", []hit{{"STET020", "jq", "apt-get install jq"}}},
		{"windows line endings", "apt-get install -y \\\r\n  jq\r\n", []hit{{"STET020", "jq", "apt-get install -y \\\r\n  jq"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, hits(tt.text)); diff != "" {
				t.Errorf("checkScript(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestParseScriptWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want [][]string
	}{
		{`a 'b c' "d $e" f\ g`, [][]string{{"a", "b c", "d $e", "f g"}}},
		{"a && b || c; d | e & f", [][]string{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}, {"f"}}},
		{"X=1 Y=2 cmd arg", [][]string{{"cmd", "arg"}}},
		{"cmd 2>&1 >/dev/null <in arg", [][]string{{"cmd", "arg"}}},
		{"echo $(inner one) `inner two`", [][]string{{"echo", "$(inner one)", "`inner two`"}, {"inner", "one"}, {"inner", "two"}}},
		{"diff <(a) >(b)", [][]string{{"diff", "<(a)", ">(b)"}, {"a"}, {"b"}}},
		{"echo ${x:-$(y)} $((1+2))", [][]string{{"echo", "${x:-$(y)}", "$((1+2))"}}},
		{"f() { g; }", [][]string{{"f"}, {"g"}}},
		{"while read l; do x; done < f", [][]string{{"read", "l"}, {"x"}}},
		{"a \\\n b # c \\\nd", [][]string{{"a", "b"}, {"d"}}},
		{"cat <<A <<-B\none\nA\n\ttwo\n\tB\nnext", [][]string{{"cat"}, {"next"}}},
		{"echo \"a\\\"b\" 'c\\'", [][]string{{"echo", `a"b`, `c\`}}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			var got [][]string
			for _, c := range parseScript(tt.text, 0, false) {
				var ws []string
				for _, w := range c.words {
					ws = append(ws, w.lit)
				}
				got = append(got, ws)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseScript(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestHeredocBody(t *testing.T) {
	t.Parallel()
	text := "cat > /etc/x <<'EOF'\nline one\nline two\nEOF\n"
	cmds := parseScript(text, 0, false)
	if len(cmds) != 1 || len(cmds[0].heredocs) != 1 {
		t.Fatalf("parseScript(%q) = %d commands, want 1 with a heredoc", text, len(cmds))
	}
	h := cmds[0].heredocs[0]
	if diff := cmp.Diff("line one\nline two\n", h.body); diff != "" {
		t.Errorf("heredoc body (-want +got):\n%s", diff)
	}
	if !h.quoted || h.delim != "EOF" || !strings.HasPrefix(text[h.pos:], "line one") {
		t.Errorf("heredoc = %+v, want quoted EOF at the body", h)
	}
}
