package rules

// Owners of rules: who produces their findings.
const (
	ownerCheck  = "check"
	ownerVerify = "verify"
)

// catalogue is sorted by ID (Lookup and Index binary-search it).
var catalogue = []Rule{
	{
		ID: "STET001", Name: "unpinned-image", Severity: Error, Owner: ownerCheck,
		Summary: "image not pinned by digest",
		Help: "A tag is a pointer that its publisher can move at any time: the same `FROM nginx:1-alpine` builds a different image tomorrow, " +
			"and rebuilding an old commit to roll back pulls the new bytes again. Pin every image to the digest of the manifest you tested.\n\n" +
			"`stet pin` resolves each tag and writes `name:tag@sha256:…` in place; the tag stays beside the digest so people and update tools still see the version. " +
			"A reference that is exactly one variable (`FROM ${BASE}`) is pinned where its value is written, at the `ARG` default, " +
			"unless another line reads that default as part of a larger value (`FROM ${BASE}-alpine`, `ARG SLIM=${BASE}-slim`), which a digest appended to it would break: " +
			"then it is not pinned in place either, and `stet pin` names that line. " +
			"One assembled from variables and text (`golang:${GO_VERSION}-alpine`, `app:${TAG:-1.2}`) is read with the defaults but not pinned in place: " +
			"the digest would belong to the default, and a build that sets the variable would silently still get the default's image. " +
			"Write such a reference whole in one variable (`ARG GO_IMAGE=golang:1.22-alpine`, `FROM ${GO_IMAGE}`) to have it pinned. " +
			"References built from variables without a static value are reported by STET004 instead, and `scratch` is not an image.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "FROM nginx:1-alpine\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "FROM nginx:1-alpine@sha256:4ff102c5d78d254a6f0da062b3cf39eaf07f01eec0927fd21e219d0af8bc0591\n"},
		Tags: []string{"supply-chain", "reproducibility", "image"},
	},
	{
		ID: "STET002", Name: "latest-tag", Severity: Error, Owner: ownerCheck,
		Summary: "image without tag, or `latest`",
		Help: "An image written without a tag means `latest`, and `latest` carries no version at all: nobody reading the file can tell what runs, " +
			"and every pull may bring a new major release. Name the version you mean, then pin it (STET001).\n\n" +
			"The rule looks at the tag after static variable defaults are applied: `image: redis`, `image: redis:latest` and `FROM redis:${T}` with `ARG T=latest` are all reported. " +
			"A reference pinned by digest alone (`redis@sha256:…`) is immutable and is not reported.",
		Bad:  Example{File: "compose.yaml", Lang: "yaml", Code: "services:\n  cache:\n    image: redis\n"},
		Good: Example{File: "compose.yaml", Lang: "yaml", Code: "services:\n  cache:\n    image: redis:7.4.1-alpine@sha256:c35af3bbcef51a62c8bae5a9a563c6f1b60d7ebaea4cb5a3ccbcc157580ae098\n"},
		Tags: []string{"supply-chain", "reproducibility", "image"},
	},
	{
		ID: "STET003", Name: "unpinned-action", Severity: Error, Owner: ownerCheck,
		Summary: "action not pinned to a full commit SHA",
		Help: "A GitHub Action runs with your workflow's token and secrets. Tags and branches such as `v4` or `main` can be moved by anyone with push access to the action's repository, " +
			"which is how compromised actions reach thousands of pipelines at once. Only a full 40-character commit SHA is immutable.\n\n" +
			"`stet pin` resolves the tag to its commit and keeps the version in a trailing comment (`# v4.2.2`), which update tools and STET013 read.",
		Bad:  Example{File: ".github/workflows/ci.yml", Lang: "yaml", Code: "steps:\n  - uses: actions/checkout@v4\n"},
		Good: Example{File: ".github/workflows/ci.yml", Lang: "yaml", Code: "steps:\n  - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"},
		Tags: []string{"supply-chain", "security", "github-actions"},
	},
	{
		ID: "STET004", Name: "dynamic-reference", Severity: Error, Owner: ownerCheck,
		Summary: "reference built from a variable with no static value",
		Help: "When an image or action is built from a variable that has no value in the file (`FROM ${BASE}` without a default, `container: ${{ inputs.image }}`, " +
			"`container: ${{ matrix.image }}` with a matrix from `fromJSON(…)`), what runs is decided outside the repository and cannot be checked or pinned here. " +
			"A matrix whose values are all written in the workflow is read instead: each value is a reference of its own, pinned where the matrix writes it when every use of that property is such an image; one also compared, or used in a script, a name or a key, is reported but left as written. " +
			"An image field holding a YAML block of several lines is reported here too: no image name spans lines, so the file does not say what runs; " +
			"and so is a block whose value is not exactly the image on its line (the line break that `|` and `>` keep, a blank line or extra indentation before it): write it as a plain value or with `|-`.\n\n" +
			"Give the variable a default in the file (an `ARG` default, `${VAR:-default}` in Compose), so stet can read it; a reference that is the variable alone is then pinned at its default (see STET001), " +
			"or suppress the finding where the value is pinned elsewhere and say where in the reason.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "ARG BASE\nFROM ${BASE}\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "ARG BASE=debian:12.8-slim@sha256:1537a6a1cbc4b4fd401da800ee9480207e7dc1f23560c21259f681db56768f63\nFROM ${BASE}\n"},
		Tags: []string{"supply-chain", "reproducibility"},
	},
	{
		ID: "STET010", Name: "lock-mismatch", Severity: Error, Owner: ownerVerify,
		Summary: "file and stet.lock disagree (missing entry, different digest)",
		Help: "stet.lock records the digest every reference resolved to. A reference that has no entry in the lock, or whose pinned digest differs from the locked one, " +
			"means the files changed without the lock being updated (or the other way round), so what is reviewed is not what is deployed.\n\n" +
			"Run `stet lock` after editing references by hand (`stet pin` and `stet update` refresh an existing lock themselves), and commit the lock together with the change.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "# stet.lock has nginx:1-alpine at sha256:4ff1…\nFROM nginx:1-alpine@sha256:b0a1c7d8dbbfc29f05fd6f25e7ba5a2e1e0e0de5f2a5cfa6b5d8fc0d1c2f3e4a\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "# stet.lock has nginx:1-alpine at sha256:4ff1…\nFROM nginx:1-alpine@sha256:4ff102c5d78d254a6f0da062b3cf39eaf07f01eec0927fd21e219d0af8bc0591\n"},
		Tags: []string{"supply-chain", "lockfile"},
	},
	{
		ID: "STET011", Name: "tag-moved", Severity: Error, Owner: ownerVerify,
		Summary: "tag moved upstream since it was locked",
		Help: "The registry now answers a different digest for a tag than the one recorded in stet.lock: the publisher moved the tag. " +
			"Your pinned builds are unaffected, but the next `stet update` would bring new bytes in, so look at what changed first " +
			"(`stet diff old new` lists the OS packages that differ).\n\n" +
			"Accept the new digest with `stet update` (and commit the lock), or keep the old one and suppress the finding with a reason.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "# locked: nginx:1-alpine at sha256:aaa…; registry now: sha256:bbb…\nFROM nginx:1-alpine@sha256:aaa…\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "# after `stet update`, reviewed with `stet diff`\nFROM nginx:1-alpine@sha256:bbb…\n"},
		Tags: []string{"supply-chain", "lockfile", "registry"},
	},
	{
		ID: "STET012", Name: "digest-gone", Severity: Error, Owner: ownerVerify,
		Summary: "pinned digest no longer exists in its registry",
		Help: "The registry no longer serves a pinned digest: it was garbage-collected, deleted, or the repository moved. " +
			"Builds and deployments that use this reference will fail to pull, and a rollback to a release that records it cannot happen.\n\n" +
			"Copy the image to a registry you control and pin that copy, or move to a digest that exists.",
		Bad:  Example{File: "deploy.yaml", Lang: "yaml", Code: "image: registry.example.com/app:1.4@sha256:0000000000000000000000000000000000000000000000000000000000000000\n"},
		Good: Example{File: "deploy.yaml", Lang: "yaml", Code: "image: registry.internal/mirror/app:1.4@sha256:4ff102c5d78d254a6f0da062b3cf39eaf07f01eec0927fd21e219d0af8bc0591\n"},
		Tags: []string{"supply-chain", "registry"},
	},
	{
		ID: "STET013", Name: "action-version-mismatch", Severity: Error, Owner: ownerVerify,
		Summary: "action SHA does not match its version comment",
		Help: "A pinned action carries its version in a comment (`@<sha> # v4.2.2`). When the tag in the comment points at another commit, " +
			"readers and update tools are told one version while another runs; it is also how a malicious pin hides.\n\n" +
			"Re-pin with `stet pin` or `stet update`, which write the commit and the comment together.",
		Bad:  Example{File: ".github/workflows/ci.yml", Lang: "yaml", Code: "- uses: actions/checkout@0ad4b8fadaa221de15dcec353f45205ec38ea70b # v4.2.2\n"},
		Good: Example{File: ".github/workflows/ci.yml", Lang: "yaml", Code: "- uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"},
		Tags: []string{"supply-chain", "security", "github-actions"},
	},
	{
		ID: "STET020", Name: "apt-unversioned", Severity: Warning, Owner: ownerCheck,
		Summary: "apt-get/apt install without versions",
		Help: "`apt-get install curl` installs whatever version the mirror serves on the day of the build, so two builds of the same commit differ. " +
			"Pin each package with `pkg=version`, or build from a dated snapshot mirror (snapshot.debian.org) and suppress the finding with that reason.\n\n" +
			"Local `.deb` files and arguments that are shell variables are not judged. " +
			"This is advice about reproducible installs and is a warning by default; raise it to `error` in .stet.yaml to enforce it.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN apt-get update && apt-get install -y --no-install-recommends \\\n    curl=7.88.1-10+deb12u8 ca-certificates=20230311\n"},
		Tags: []string{"reproducibility", "packages", "dockerfile"},
	},
	{
		ID: "STET021", Name: "apk-unversioned", Severity: Warning, Owner: ownerCheck,
		Summary: "apk add without versions",
		Help: "`apk add curl` installs the newest curl in the repository at build time. Pin each package with `pkg=version` (exact) or `pkg~version` (a version prefix).\n\n" +
			"Options and their arguments (`--virtual .build-deps`, `-t NAME`, `--repository URL`, `--no-cache`) are not packages; local `.apk` files and shell variables are not judged. " +
			"A warning by default.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN apk add --no-cache --virtual .build-deps gcc musl-dev\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN apk add --no-cache --virtual .build-deps gcc=14.2.0-r4 musl-dev~1.2.5\n"},
		Tags: []string{"reproducibility", "packages", "dockerfile"},
	},
	{
		ID: "STET022", Name: "pip-unversioned", Severity: Warning, Owner: ownerCheck,
		Summary: "pip install without versions or hashes",
		Help: "`pip install requests` installs the newest release and whatever its dependencies resolve to that day. Pin each package with `==version`.\n\n" +
			"Not reported: `-r requirements.txt` (pinning and `--hash` belong in the requirements file, which this rule cannot see; `--require-hashes` makes pip enforce them), " +
			"installs constrained by `-c constraints.txt`, installs with `--require-hashes`, local paths and wheels (`.`, `-e .`, `./dist/app.whl`), " +
			"VCS URLs pinned to a full commit, URLs with a `#sha256=` fragment, and shell variables. " +
			"`pip`, `pip3`, `python -m pip` and `uv pip` are recognised. A warning by default.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN pip install --no-cache-dir requests flask>=3\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN pip install --no-cache-dir --require-hashes -r requirements.txt\n"},
		Tags: []string{"reproducibility", "packages"},
	},
	{
		ID: "STET023", Name: "npm-global-unversioned", Severity: Warning, Owner: ownerCheck,
		Summary: "npm/yarn/pnpm global install without version",
		Help: "A global install (`npm install -g`, `yarn global add`, `pnpm add -g`, `bun add -g`) bypasses the project's lockfile, so it installs the newest release of the tool at build time. " +
			"Name a version: `typescript@5.6.3`.\n\n" +
			"Dist-tags (`@latest`, `@next`) and ranges (`@^5`, `@*`) are reported; a version starting with a digit is accepted. " +
			"Project installs (`npm ci`, `npm install` without `-g`) follow the lockfile and are not judged. A warning by default.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN npm install -g typescript pnpm@latest\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN npm install -g typescript@5.6.3 pnpm@9.14.2\n"},
		Tags: []string{"reproducibility", "packages"},
	},
	{
		ID: "STET024", Name: "go-install-latest", Severity: Warning, Owner: ownerCheck,
		Summary: "`go install …@latest`",
		Help: "`go install example.com/tool@latest` builds whatever was released last; so do branch names (`@main`), partial versions (`@v1`) and the `@upgrade`/`@patch` queries. " +
			"Name a full version (`@v1.2.3`), a pseudo-version or a commit.\n\n" +
			"`go install` without `@` builds the version in the current module's go.mod and is not reported. A warning by default.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN go install golang.org/x/tools/gopls@latest\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN go install golang.org/x/tools/gopls@v0.16.2\n"},
		Tags: []string{"reproducibility", "packages"},
	},
	{
		ID: "STET025", Name: "remote-script-to-shell", Severity: Warning, Owner: ownerCheck,
		Summary: "remote script piped to a shell (curl/wget … | sh)",
		Help: "`curl https://… | sh` runs whatever the server returns at that moment, with no record of what it was and no way to review it: " +
			"a compromised or changed installer runs in your build. The same holds for `bash <(curl …)`, `sh -c \"$(curl …)\"` and piping into `python` or `sudo bash`.\n\n" +
			"Download the script to a file, check its digest (`echo \"<sha256>  install.sh\" | sha256sum -c`), then run it; or use a package or release artifact with a checksum. A warning by default.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN curl -fsSL https://get.example.com/install.sh | sh\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN curl -fsSLo /tmp/install.sh https://get.example.com/v1.4.0/install.sh \\\n && echo \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  /tmp/install.sh\" | sha256sum -c - \\\n && sh /tmp/install.sh\n"},
		Tags: []string{"supply-chain", "security"},
	},
	{
		ID: "STET026", Name: "add-remote-unchecked", Severity: Warning, Owner: ownerCheck,
		Summary: "ADD of a remote URL without --checksum",
		Help: "`ADD https://…` fetches whatever the URL serves at build time. Give the expected digest with `ADD --checksum=sha256:…` (Dockerfile syntax 1.6 and later), " +
			"so a changed file fails the build instead of entering the image.\n\n" +
			"For a git source, a fragment naming a full commit (`#<40-hex>`) or `--checksum=<commit>` is immutable and is not reported; a branch or tag is. A warning by default.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "ADD https://github.com/tianon/gosu/releases/download/1.17/gosu-amd64 /usr/local/bin/gosu\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "ADD --checksum=sha256:bbc4136d03ab138b1ad66fa4fc051bafc6cc7ffae632b069a53657279a450de3 \\\n    https://github.com/tianon/gosu/releases/download/1.17/gosu-amd64 /usr/local/bin/gosu\n"},
		Tags: []string{"supply-chain", "dockerfile"},
	},
	{
		ID: "STET027", Name: "git-clone-unpinned", Severity: Warning, Owner: ownerCheck,
		Summary: "git clone of a branch/default head without a commit",
		Help: "`git clone` checks out the default branch, and `--branch v1.2` a branch or a tag: all can move. " +
			"Check out a commit after cloning (`git checkout <sha>` or `git reset --hard <sha>`, or `git -C dir checkout <sha>`), so the build always gets the same tree.\n\n" +
			"A later checkout of a hexadecimal commit, of `FETCH_HEAD`, or of a shell variable (assumed to hold a commit) in the same command, or in a later command of the file, satisfies the rule. A warning by default.",
		Bad:  Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN git clone --depth 1 --branch v1.2.0 https://github.com/example/tool.git /src/tool\n"},
		Good: Example{File: "Dockerfile", Lang: "dockerfile", Code: "RUN git clone https://github.com/example/tool.git /src/tool \\\n && git -C /src/tool checkout 3f1c8e9d6b2a4c7e8f9a0b1c2d3e4f5a6b7c8d9e\n"},
		Tags: []string{"reproducibility", "supply-chain"},
	},
}
