// Command pin measures `stet pin` on the 10,000-file monorepo of bench/scan
// against local servers, and compares it with the resolution alone: the
// work pin adds on top of resolving (scanning, patching, atomic writes)
// should stay under a second.
//
// Every image the tree names is pushed to an in-process registry reached
// through mirrors (one per registry host), and every action to a bare git
// repository served by git http-backend, so that every reference resolves.
//
//	go run ./bench/pin [-files 10000] [-runs 3] [-keep DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stet-dev/stet/bench/internal/benchutil"
	"github.com/stet-dev/stet/ref"
	stetregistry "github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
)

func main() {
	files := flag.Int("files", 10000, "number of files in the generated tree")
	runs := flag.Int("runs", 3, "timed runs of resolution and of stet pin")
	keep := flag.String("keep", "", "generate into this directory and keep it")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*files, *runs, *keep); err != nil {
		log.Fatal("bench/pin: ", err)
	}
}

func run(nfiles, runs int, keep string) error {
	root, err := benchutil.ModuleRoot()
	if err != nil {
		return err
	}
	dir, cleanup, err := benchutil.WorkDir(keep, "stet-bench-pin-")
	if err != nil {
		return err
	}
	defer cleanup()
	bin, tree := filepath.Join(dir, "stet-bench"), filepath.Join(dir, "repo")
	if _, err := os.Stat(tree); err != nil {
		// bench/scan generates dir/repo (and builds stet into dir).
		gen := exec.Command("go", "run", "./bench/scan", "-files", fmt.Sprint(nfiles), "-runs", "1", "-keep", dir)
		gen.Dir, gen.Stdout, gen.Stderr = root, os.Stdout, os.Stderr
		if err := gen.Run(); err != nil {
			return fmt.Errorf("generating the tree: %w", err)
		}
	}
	if err := benchutil.BuildStet(root, bin); err != nil {
		return err
	}
	os.Remove(filepath.Join(tree, ".stet.yaml"))
	rep, err := scan.Walk(context.Background(), []string{tree}, scan.Options{Scanners: formats.Default()})
	if err != nil {
		return err
	}
	var refs []ref.Ref
	for _, f := range rep.Files {
		refs = append(refs, f.Refs...)
	}
	var todo []ref.Ref
	for _, r := range refs {
		if r.Digest == "" && resolve.Resolvable(r) {
			todo = append(todo, r)
		}
	}

	// Registry: every image the tree names, under a mirror per host.
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	mirrors := map[string]string{}
	pushed := map[string]bool{}
	img, err := random.Image(256, 1)
	if err != nil {
		return err
	}
	for _, r := range todo {
		if r.Kind != ref.Image || pushed[r.Key()] {
			continue
		}
		pushed[r.Key()] = true
		im, err := ref.ParseImage(r.Name + ":" + r.Tag)
		if err != nil {
			return err
		}
		mirrors[im.Registry] = host + "/" + im.Registry
		t, err := name.NewTag(host+"/"+im.Registry+"/"+im.Repository+":"+r.Tag, name.Insecure)
		if err != nil {
			return fmt.Errorf("mirror tag for %s: %w", r.Key(), err)
		}
		if err := remote.Write(t, img); err != nil {
			return fmt.Errorf("pushing %s: %w", t, err)
		}
	}

	// Git: every action repository with every ref the tree names.
	gitRoot := filepath.Join(dir, "git")
	os.RemoveAll(gitRoot)
	actionRefs := map[string][]string{}
	for _, r := range todo {
		if r.Kind == ref.Action {
			repo := ref.ActionRepo(r.Name)
			if !slices.Contains(actionRefs[repo], r.Tag) {
				actionRefs[repo] = append(actionRefs[repo], r.Tag)
			}
		}
	}
	for repo, tags := range actionRefs {
		if err := makeRepo(gitRoot, repo, tags); err != nil {
			return err
		}
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return err
	}
	gitSrv := httptest.NewServer(&cgi.Handler{Path: git, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + gitRoot, "GIT_HTTP_EXPORT_ALL=1"}})
	defer gitSrv.Close()

	var cfg strings.Builder
	cfg.WriteString("registries:\n  mirrors:\n")
	for _, k := range slices.Sorted(maps.Keys(mirrors)) {
		fmt.Fprintf(&cfg, "    %s: %s\n", k, mirrors[k])
	}
	fmt.Fprintf(&cfg, "actions:\n  gitURL: %s\n", gitSrv.URL)
	if err := os.WriteFile(filepath.Join(tree, ".stet.yaml"), []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("references: %d sites, %d to resolve (%d unique images over %d registries, %d action repositories)\n",
		len(refs), len(todo), len(pushed), len(mirrors), len(actionRefs))

	// The scan alone, as every command does it.
	var scanWalls, resolveWalls, pinWalls []time.Duration
	var scanCPU, dryCPU, pinCPU time.Duration
	for range runs {
		start, cpu0 := time.Now(), benchutil.SelfCPU()
		if _, err := scan.Walk(context.Background(), []string{tree}, scan.Options{Scanners: formats.Default()}); err != nil {
			return err
		}
		scanWalls = append(scanWalls, time.Since(start))
		scanCPU += benchutil.SelfCPU() - cpu0
	}
	// Resolution alone, as pin does it: a fresh client each run.
	for range runs {
		c, err := stetregistry.New(stetregistry.WithMirrors(mirrors))
		if err != nil {
			return err
		}
		res, err := resolve.New(c, resolve.WithGitURL(gitSrv.URL))
		if err != nil {
			return err
		}
		start := time.Now()
		if _, err := res.Resolve(context.Background(), todo); err != nil {
			return fmt.Errorf("resolving: %w", err)
		}
		resolveWalls = append(resolveWalls, time.Since(start))
	}
	var dryWalls []time.Duration
	for range runs {
		cmd := exec.Command(bin, "pin", "--dry-run", ".")
		cmd.Dir = tree
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("stet pin --dry-run: %w\n%s", err, tail(stderr.String(), 2000))
		}
		dryWalls = append(dryWalls, time.Since(start))
		dryCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	for i := range runs {
		work := filepath.Join(dir, fmt.Sprintf("pin%d", i))
		os.RemoveAll(work)
		if err := os.CopyFS(work, os.DirFS(tree)); err != nil {
			return err
		}
		// Flush the copy now so that pin's syncs pay only for what it writes.
		syscall.Sync()
		cmd := exec.Command(bin, "pin", ".")
		cmd.Dir = work
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		if err != nil {
			return fmt.Errorf("stet pin: %w\n%s", err, tail(stderr.String(), 2000))
		}
		pinWalls = append(pinWalls, wall)
		pinCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if i == 0 {
			fmt.Printf("stet pin: %s\n", benchutil.LastLine(stderr.String()))
		}
		os.RemoveAll(work)
	}
	smed, rmed, pmed := median(scanWalls), median(resolveWalls), median(pinWalls)
	per := func(d time.Duration) time.Duration { return (d / time.Duration(runs)).Round(time.Millisecond) }
	fmt.Printf("cpu per run: scan %v, pin --dry-run %v, pin %v\n", per(scanCPU), per(dryCPU), per(pinCPU))
	fmt.Printf("scan alone (in-process walk): median %v over %d runs\n", smed.Round(time.Millisecond), runs)
	fmt.Printf("resolution alone:             median %v over %d runs\n", rmed.Round(time.Millisecond), runs)
	fmt.Printf("stet pin --dry-run (diffs):   median %v over %d runs\n", median(dryWalls).Round(time.Millisecond), runs)
	fmt.Printf("stet pin (process, writes):   median %v over %d runs\n", pmed.Round(time.Millisecond), runs)
	over := pmed - smed - rmed
	verdict := "within"
	if over > time.Second {
		verdict = "OVER"
	}
	fmt.Printf("pin beyond scan + resolution: %v (%s the 1 s budget)\n", over.Round(time.Millisecond), verdict)
	return nil
}

// makeRepo creates root/owner/repo.git with one commit carrying every ref
// as a tag.
func makeRepo(root, repo string, tags []string) error {
	work, err := os.MkdirTemp("", "stet-bench-git-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	git := func(args ...string) error {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.com",
			"GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %w\n%s", args, err, out)
		}
		return nil
	}
	if err := git("init", "-q", "-b", "bench-default"); err != nil {
		return err
	}
	if err := git("commit", "-q", "--allow-empty", "-m", "bench"); err != nil {
		return err
	}
	for _, t := range tags {
		if err := git("tag", t); err != nil {
			return err
		}
	}
	bare := filepath.Join(root, repo+".git")
	if err := os.MkdirAll(filepath.Dir(bare), 0o755); err != nil {
		return err
	}
	return git("clone", "-q", "--bare", work, bare)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
