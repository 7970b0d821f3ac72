package edit

import (
	"bytes"
	"fmt"
	"io"
)

// maxEditCost bounds the Myers search. Pins change a handful of lines, so
// real diffs finish far below it; past it the remaining middle is reported
// as one replaced block, which is still a correct (if not minimal) diff.
const maxEditCost = 4096

// Diff writes a unified diff (3 lines of context) turning old into new,
// labelled a/path and b/path as git does. It writes nothing when the two
// are equal. A side without a final newline is marked the way diff(1) and
// git mark it.
func Diff(w io.Writer, path string, old, new []byte) error {
	if bytes.Equal(old, new) {
		return nil
	}
	a, b := splitLines(old), splitLines(new)
	ops := diffLines(a, b)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "--- a/%s\n+++ b/%s\n", path, path)
	writeHunks(&buf, a, b, ops, 3)
	_, err := w.Write(buf.Bytes())
	return err
}

// splitLines splits data after each '\n'; the last line may lack one.
func splitLines(data []byte) [][]byte {
	lines := make([][]byte, 0, bytes.Count(data, []byte{'\n'})+1)
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lines = append(lines, data)
			break
		}
		lines = append(lines, data[:i+1])
		data = data[i+1:]
	}
	return lines
}

// opKind of one line in an edit script.
type opKind byte

const (
	opEqual opKind = ' '
	opDel   opKind = '-'
	opIns   opKind = '+'
)

// lineOp is a line of the edit script: a line of a (equal, delete) or of b
// (insert), by index.
type lineOp struct {
	kind opKind
	a, b int
}

// diffLines returns a shortest edit script from a to b (Myers' O(ND)
// algorithm on the part between the common prefix and suffix).
func diffLines(a, b [][]byte) []lineOp {
	pre := 0
	for pre < len(a) && pre < len(b) && bytes.Equal(a[pre], b[pre]) {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && bytes.Equal(a[len(a)-1-suf], b[len(b)-1-suf]) {
		suf++
	}
	ops := make([]lineOp, 0, len(a)+len(b)-pre-suf)
	for i := 0; i < pre; i++ {
		ops = append(ops, lineOp{opEqual, i, i})
	}
	ops = append(ops, myers(a[pre:len(a)-suf], b[pre:len(b)-suf], pre, pre)...)
	for i := 0; i < suf; i++ {
		ops = append(ops, lineOp{opEqual, len(a) - suf + i, len(b) - suf + i})
	}
	return ops
}

// myers diffs a and b (whose first lines have indexes offA and offB in the
// whole files). It keeps only the diagonals each step reached, so memory is
// O(D²) rather than O(N·D).
func myers(a, b [][]byte, offA, offB int) []lineOp {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return block(n, m, offA, offB)
	}
	max := n + m
	// v[k+max] is the furthest x on diagonal k.
	v := make([]int, 2*max+2)
	var trace [][]int
	found := -1
	for d := 0; d <= max && d <= maxEditCost; d++ {
		snap := make([]int, 2*d+1)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[max+k-1] < v[max+k+1]) {
				x = v[max+k+1]
			} else {
				x = v[max+k-1] + 1
			}
			y := x - k
			for x < n && y < m && bytes.Equal(a[x], b[y]) {
				x++
				y++
			}
			v[max+k] = x
			if x >= n && y >= m {
				found = d
			}
		}
		for k := -d; k <= d; k++ {
			snap[k+d] = v[max+k]
		}
		trace = append(trace, snap)
		if found >= 0 {
			break
		}
	}
	if found < 0 {
		return block(n, m, offA, offB)
	}
	// Walk back from (n, m) through the snapshots.
	rev := make([]lineOp, 0, n+m)
	x, y := n, m
	for d := found; d > 0; d-- {
		prev := trace[d-1]
		get := func(k int) int { return prev[k+d-1] }
		k := x - y
		var pk int
		if k == -d || (k != d && get(k-1) < get(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := get(pk)
		py := px - pk
		for x > px && y > py {
			x--
			y--
			rev = append(rev, lineOp{opEqual, offA + x, offB + y})
		}
		if x == px {
			y--
			rev = append(rev, lineOp{opIns, offA + x, offB + y})
		} else {
			x--
			rev = append(rev, lineOp{opDel, offA + x, offB + y})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, lineOp{opEqual, offA + x, offB + y})
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// block is the script that deletes all of a and inserts all of b.
func block(n, m, offA, offB int) []lineOp {
	ops := make([]lineOp, 0, n+m)
	for i := 0; i < n; i++ {
		ops = append(ops, lineOp{opDel, offA + i, offB})
	}
	for j := 0; j < m; j++ {
		ops = append(ops, lineOp{opIns, offA + n, offB + j})
	}
	return ops
}

// writeHunks groups the script into hunks with ctx lines of context.
func writeHunks(buf *bytes.Buffer, a, b [][]byte, ops []lineOp, ctx int) {
	for i := 0; i < len(ops); {
		if ops[i].kind == opEqual {
			i++
			continue
		}
		start := max(i-ctx, 0)
		// Extend the hunk while the next change is within 2*ctx equal lines.
		end := i
		for end < len(ops) {
			if ops[end].kind != opEqual {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == opEqual {
				run++
			}
			if run == len(ops) || run-end > 2*ctx {
				end = min(end+ctx, len(ops))
				break
			}
			end = run
		}
		writeHunk(buf, a, b, ops[start:end])
		i = end
	}
}

func writeHunk(buf *bytes.Buffer, a, b [][]byte, ops []lineOp) {
	aStart, bStart := ops[0].a, ops[0].b
	var aLen, bLen int
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			aLen++
			bLen++
		case opDel:
			aLen++
		case opIns:
			bLen++
		}
	}
	fmt.Fprintf(buf, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, o := range ops {
		var line []byte
		if o.kind == opIns {
			line = b[o.b]
		} else {
			line = a[o.a]
		}
		buf.WriteByte(byte(o.kind))
		buf.Write(line)
		if len(line) == 0 || line[len(line)-1] != '\n' {
			buf.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange formats a 0-based start and a length as unified diff does:
// 1-based, ",len" omitted when 1, and an empty range names the line before.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
