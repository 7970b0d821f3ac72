package edit

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stet-dev/stet/ref"
)

func TestWriteFileKeepsModeAndLeavesNoTemp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(p, []byte("FROM nginx:1\n"), 0o751); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o751); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("FROM nginx:2\n")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "FROM nginx:2\n" {
		t.Errorf("content = %q", got)
	}
	fi, _ := os.Stat(p)
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o751 {
		t.Errorf("mode = %v, want 0751", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
}

func TestWriteFileFollowsSymlink(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "real.yaml")
	link := filepath.Join(dir, "link.yaml")
	os.WriteFile(target, []byte("a\n"), 0o644)
	if err := os.Symlink("real.yaml", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("b\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced by a file: %v %v", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(target); string(got) != "b\n" {
		t.Errorf("target = %q", got)
	}
}

func TestWriteFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "missing"), []byte("x")); err == nil {
		t.Error("writing a missing file succeeded")
	}
	if err := WriteFile(dir, []byte("x")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("writing a directory: %v", err)
	}
	if runtime.GOOS != "windows" && os.Getuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o755)
		p := filepath.Join(ro, "f")
		os.WriteFile(p, []byte("old"), 0o644)
		os.Chmod(ro, 0o555)
		defer os.Chmod(ro, 0o755)
		if err := WriteFile(p, []byte("new")); err == nil {
			t.Error("writing in a read-only directory succeeded")
		}
		if got, _ := os.ReadFile(p); string(got) != "old" {
			t.Errorf("failed write changed the file: %q", got)
		}
	}
}

func TestCreateFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "stet.lock")
	if err := CreateFile(p, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644) {
		t.Fatalf("stat: %v %v", fi, err)
	}
	if err := CreateFile(p, []byte("{\"version\":1}\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "{\"version\":1}\n" {
		t.Errorf("content = %q", got)
	}
}

// FuzzPatch checks the patcher's contract on arbitrary input: it never
// panics, and when it succeeds every byte outside the edited spans (and the
// action comment region) is unchanged, in order.
func FuzzPatch(f *testing.F) {
	f.Add([]byte("FROM nginx:1-alpine\n"), 5, 19, 0, false, "")
	f.Add([]byte("  - uses: actions/checkout@v4 # v4\r\n"), 10, 29, 4, false, "v4.2.2")
	f.Add([]byte("digest: \"\"\n"), 9, 9, 2, true, "")
	f.Add([]byte("newTag: 1\n"), 9, 9, 3, false, "\n  digest: ")
	f.Add([]byte("tag: 1.0@sha256:1111111111111111111111111111111111111111111111111111111111111111\n"), 5, 80, 1, true, "")
	f.Fuzz(func(t *testing.T, data []byte, start, end, form int, unpin bool, extra string) {
		if form < 0 || form > int(ref.FormAction) {
			return
		}
		e := Edit{Span: ref.Span{Start: start, End: end, Form: ref.Form(form), Line: 1, Column: 1}, Digest: testDigest}
		if unpin {
			e.Op = Unpin
		}
		switch e.Span.Form {
		case ref.FormInsert:
			e.Span.Prefix = extra
		case ref.FormAction:
			e.Digest, e.Version = testCommit, extra
		}
		got, err := Patch("f", data, []Edit{e})
		if err != nil {
			return
		}
		if !bytes.HasPrefix(got, data[:start]) {
			t.Fatalf("bytes before the span changed: %q -> %q", data, got)
		}
		tail := data[end:]
		if e.Span.Form == ref.FormAction {
			// The comment region may change; the next line may not.
			if i := bytes.IndexByte(tail, '\n'); i >= 0 {
				tail = tail[i:]
			} else {
				tail = nil
			}
		}
		if !bytes.HasSuffix(got, tail) {
			t.Fatalf("bytes after the span changed: %q -> %q", data, got)
		}
		if bytes.Count(got, []byte("\n")) != bytes.Count(data, []byte("\n"))+strings.Count(e.Span.Prefix, "\n")*boolInt(!unpin && e.Span.Form == ref.FormInsert) {
			t.Fatalf("line count changed: %q -> %q", data, got)
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// benchFile is a 10,000-line compose-like file and the edits that pin its
// 1,000 references at once.
func benchFile() ([]byte, []Edit) {
	var buf bytes.Buffer
	var edits []Edit
	for i := 0; i < 1000; i++ {
		for j := 0; j < 9; j++ {
			buf.WriteString("    environment: SOMETHING_LONG_ENOUGH=value\n")
		}
		buf.WriteString("    image: nginx:1-alpine\n")
		end := buf.Len() - 1
		edits = append(edits, Edit{Span: ref.Span{Start: end - len("nginx:1-alpine"), End: end}, Digest: testDigest})
	}
	return buf.Bytes(), edits
}

func BenchmarkPatch(b *testing.B) {
	data, edits := benchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Patch("f", data, edits); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiff(b *testing.B) {
	old, edits := benchFile()
	new, err := Patch("f", old, edits)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		var out bytes.Buffer
		if err := Diff(&out, "f", old, new); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	t.Parallel()
	// Below batchSync every file and directory is synced; from it, the
	// file system is.
	for _, n := range []int{3, batchSync + 8} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			files := map[string][]byte{}
			for i := 0; i < n; i++ {
				sub := filepath.Join(dir, "d"+strconv.Itoa(i%3))
				os.MkdirAll(sub, 0o755)
				p := filepath.Join(sub, "f"+strconv.Itoa(i))
				if err := os.WriteFile(p, []byte("old"), 0o640); err != nil {
					t.Fatal(err)
				}
				os.Chmod(p, 0o640)
				files[p] = []byte("new " + strconv.Itoa(i))
			}
			if err := WriteFiles(files); err != nil {
				t.Fatal(err)
			}
			for p, want := range files {
				got, _ := os.ReadFile(p)
				fi, _ := os.Stat(p)
				if string(got) != string(want) || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640) {
					t.Errorf("%s = %q mode %v", p, got, fi.Mode().Perm())
				}
			}
			total := 0
			for i := 0; i < 3; i++ {
				entries, _ := os.ReadDir(filepath.Join(dir, "d"+strconv.Itoa(i)))
				total += len(entries)
			}
			if total != n {
				t.Errorf("%d entries for %d files: temporary files left", total, n)
			}
		})
	}
}

func TestWriteFilesFailureLeavesAllUntouched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("old"), 0o644)
	notFile := filepath.Join(dir, "sub")
	os.Mkdir(notFile, 0o755)
	if err := WriteFiles(map[string][]byte{ok: []byte("new"), notFile: []byte("new")}); err == nil {
		t.Fatal("WriteFiles over a directory succeeded")
	}
	if got, _ := os.ReadFile(ok); string(got) != "old" {
		t.Errorf("ok = %q after a failed set", got)
	}
	if runtime.GOOS == "windows" || os.Getuid() == 0 {
		return // a read-only directory does not stop root
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	bad := filepath.Join(ro, "f")
	os.WriteFile(bad, []byte("old"), 0o644)
	os.Chmod(ro, 0o555)
	defer os.Chmod(ro, 0o755)
	if err := WriteFiles(map[string][]byte{ok: []byte("new"), bad: []byte("new")}); err == nil {
		t.Fatal("WriteFiles succeeded in a read-only directory")
	}
	for _, p := range []string{ok, bad} {
		if got, _ := os.ReadFile(p); string(got) != "old" {
			t.Errorf("%s = %q after a failed set", p, got)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestWriteFilesMissing(t *testing.T) {
	t.Parallel()
	if err := WriteFiles(map[string][]byte{filepath.Join(t.TempDir(), "missing"): nil}); err == nil {
		t.Error("WriteFiles of a missing file succeeded")
	}
}
