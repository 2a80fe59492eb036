package federation_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewrite regenerates the expected outputs of testdata/*.txt from the actual ones.
var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.txt with the actual output")

// The scripts are read by this small in-house reader of the
// cockroachdb/datadriven format instead of importing datadriven: the format
// is ~100 lines to read, and federation keeps its dependency list empty.
//
//	# comment
//	command pos key=val key=(a,b)
//	----
//	expected output (no blank lines)
//	<blank line>

// TestInteraction runs every script in testdata/ against fresh machines.
func TestInteraction(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("Glob(testdata/*.txt)=%v, %v; want scripts", files, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScript(t, file)
		})
	}
}

// scriptCmd is one command of a script with its expected output.
type scriptCmd struct {
	line     int
	text     string   // the command line as written
	leading  []string // comment and blank lines before it, kept on rewrite
	expected string
}

// parseScript splits a script into commands; trailing comments go in tail.
func parseScript(t *testing.T, file string) (cmds []scriptCmd, tail []string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("ReadFile(%s)=%v", file, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	lineNo := 0
	var pending []string
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			pending = append(pending, line)
			continue
		}
		cmd := scriptCmd{line: lineNo, text: line, leading: pending}
		pending = nil
		if !sc.Scan() || sc.Text() != "----" {
			t.Fatalf("%s:%d: command %q not followed by ----", file, lineNo, line)
		}
		lineNo++
		var out []string
		for sc.Scan() {
			lineNo++
			if sc.Text() == "" {
				break
			}
			out = append(out, sc.Text())
		}
		cmd.expected = strings.Join(out, "\n")
		cmds = append(cmds, cmd)
	}
	return cmds, pending
}

// runScript runs one script, comparing or (with -rewrite) regenerating outputs.
func runScript(t *testing.T, file string) {
	t.Helper()
	cmds, tail := parseScript(t, file)
	h := &harness{t: t}
	var b strings.Builder
	for _, c := range cmds {
		got := h.run(parseCommand(c.text))
		if got == "" {
			got = "ok"
		}
		for _, l := range c.leading {
			b.WriteString(l + "\n")
		}
		fmt.Fprintf(&b, "%s\n----\n%s\n\n", c.text, got)
		if !*rewrite && got != c.expected {
			t.Fatalf("%s:%d: %s\ngot:\n%s\nwant:\n%s", file, c.line, c.text, got, c.expected)
		}
	}
	if *rewrite {
		out := strings.TrimSuffix(b.String(), "\n")
		for _, l := range tail {
			out += l + "\n"
		}
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatalf("WriteFile(%s)=%v", file, err)
		}
	}
}

// command is a parsed script command: name, positional args and key=value
// args, where a value in parentheses is a comma-separated list.
type command struct {
	name string
	pos  []string
	kv   map[string][]string
}

// parseCommand splits a command line on spaces.
func parseCommand(line string) command {
	f := strings.Fields(line)
	c := command{name: f[0], kv: map[string][]string{}}
	for _, a := range f[1:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			c.pos = append(c.pos, a)
			continue
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, "("), ")")
		c.kv[k] = strings.Split(v, ",")
	}
	return c
}

// arg returns the single value of key, or def.
func (c command) arg(key, def string) string {
	if v, ok := c.kv[key]; ok && len(v) > 0 {
		return v[0]
	}
	return def
}
